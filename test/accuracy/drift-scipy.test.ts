import {
  andersonKsamp,
  decileBins,
  jensenShannon,
  ks2samp,
  psi,
  wasserstein1,
} from '../../backend/src/engine/index.js';
import { fixtureText } from '../support/repo.js';

/**
 * The five drift statistics against scipy's values on the 13 cases of
 * test/fixtures/drift-reference.json.gz (conventions in test/fixtures/README.md): 1e-9 relative, p-values and
 * significance levels 1e-6 absolute.
 */
interface Case {
  name: string;
  reference: number[];
  current: number[];
  ks: { statistic: number; pvalue: number; method: 'exact' | 'asymp' };
  wasserstein: number;
  anderson_darling: { statistic: number; significance_level: number } | { error: string };
  bins: { edges: number[]; reference_share: number[]; current_share: number[] };
  psi: number;
  jensen_shannon: number;
}
const fixture = JSON.parse(fixtureText('drift-reference.json.gz')) as {
  cases: Case[];
};

function expectRelative(actual: number, expected: number, tolerance = 1e-9): void {
  const scale = Math.max(Math.abs(expected), 1e-300);
  expect({
    actual,
    expected,
    ok: Math.abs(actual - expected) <= tolerance * scale || Math.abs(actual - expected) <= 1e-12,
  }).toEqual({
    actual,
    expected,
    ok: true,
  });
}

function expectAbsolute(actual: number, expected: number, tolerance = 1e-6): void {
  expect({ actual, expected, ok: Math.abs(actual - expected) <= tolerance }).toEqual({
    actual,
    expected,
    ok: true,
  });
}

describe.each(fixture.cases.map((c) => [c.name, c] as const))(
  'drift statistics match scipy: %s',
  (_name, c) => {
    it('Kolmogorov–Smirnov (statistic, p-value, method)', () => {
      const r = ks2samp(c.reference, c.current);
      expect(r.method).toBe(c.ks.method);
      expectRelative(r.statistic, c.ks.statistic);
      expectAbsolute(r.pvalue, c.ks.pvalue);
    });

    it('Wasserstein-1', () => expectRelative(wasserstein1(c.reference, c.current), c.wasserstein));

    it('Anderson–Darling k-sample (or the documented refusal)', () => {
      const expected = c.anderson_darling;
      if ('error' in expected) {
        expect(() => andersonKsamp(c.reference, c.current)).toThrow(expected.error);
        return;
      }
      const r = andersonKsamp(c.reference, c.current);
      expectRelative(r.statistic, expected.statistic);
      expectAbsolute(r.significanceLevel, expected.significance_level);
    });

    it('decile bins, PSI and Jensen–Shannon distance', () => {
      const bins = decileBins(c.reference, c.current);
      bins.edges.forEach((e, i) => expectRelative(e, c.bins.edges[i]!));
      expect(bins.referenceShare).toEqual(c.bins.reference_share);
      expect(bins.currentShare).toEqual(c.bins.current_share);
      expectRelative(psi(bins.referenceShare, bins.currentShare), c.psi);
      expectRelative(jensenShannon(bins.referenceShare, bins.currentShare), c.jensen_shannon);
    });
  },
);
