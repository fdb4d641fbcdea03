import { IsolationForest } from '../forest/forest.js';
import { Random } from '../forest/random.js';
import { massVolumeArea } from './mass-volume.js';
import { trainPipeline } from './train.js';

/** Two correlated metrics with incidents (both jump) spread over the whole series. */
function series(
  n: number,
  seed: number,
): { raw: { rows: number; cols: number; data: Float64Array }; labels: Uint8Array } {
  const rng = new Random(seed);
  const data = new Float64Array(n * 2);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const load = Math.sin(i / 50) + 0.1 * rng.normal();
    const incident = i % 200 >= 190;
    labels[i] = incident ? 1 : 0;
    data[2 * i] = 10 + 3 * load + (incident ? 8 : 0);
    data[2 * i + 1] = 5 + 2 * load + 0.2 * rng.normal() + (incident ? -6 : 0);
  }
  return { raw: { rows: n, cols: 2, data }, labels };
}

describe('training pipeline', () => {
  const { raw, labels } = series(2000, 1);
  const features = { fields: ['cpu', 'mem'] };

  it('splits in time order 70/15/15, tunes by F1 with labels, and measures on the untouched test part', () => {
    const bundle = trainPipeline({ raw, labels }, { features, grid: { trees: [50], maxSamples: ['auto'] } });
    expect(bundle.split).toEqual({ train: [0, 1400], validation: [1400, 1700], test: [1700, 2000] });
    expect(bundle.criterion).toBe('f1');
    expect(bundle.grid).toHaveLength(4); // four contaminations
    expect(bundle.chosen.value).toBe(Math.max(...bundle.grid.map((g) => g.value)));
    expect(bundle.test.rocAuc).toBeGreaterThan(0.9);
    expect(bundle.test.incidentsFound).toBe('2/2');
    expect(bundle.robustness).toHaveLength(12);
    expect(bundle.reference.map((r) => r.feature)).toEqual(['cpu', 'mem']);
    expect(bundle.reference[0]!.quantiles).toHaveLength(101);
  });

  it('stores a model that scores as the pipeline measured it, and is deterministic for a seed', () => {
    const a = trainPipeline(
      { raw, labels },
      { features, seed: 5, grid: { trees: [50], maxSamples: ['auto'] } },
    );
    const b = trainPipeline(
      { raw, labels },
      { features, seed: 5, grid: { trees: [50], maxSamples: ['auto'] } },
    );
    expect(a.model).toBe(b.model);
    const bytes = Uint8Array.from(atob(a.model), (ch) => ch.charCodeAt(0));
    const forest = IsolationForest.deserialize(bytes);
    expect(forest.threshold).toBe(a.threshold);
    expect(forest.params.contamination).toBe(a.chosen.contamination);
  });

  it('without labels, tunes trees and samples by the mass–volume criterion and keeps contamination at 0.01', () => {
    const bundle = trainPipeline({ raw }, { features, grid: { trees: [50, 100], maxSamples: ['auto'] } });
    expect(bundle.criterion).toBe('mass-volume');
    expect(bundle.grid.map((g) => g.contamination)).toEqual([0.01, 0.01]);
    expect(bundle.chosen.value).toBe(Math.min(...bundle.grid.map((g) => g.value)));
    expect(bundle.test.massVolume).toBeGreaterThan(0);
    expect(bundle.robustness).toBeUndefined();
  });

  it('learns several interleaved series as one fleet, each feature looking back only within its own', () => {
    // Two hosts of the same shape, one at 10, the other at 110, their rows alternating in time.
    const rows = raw.rows;
    const fleet = new Float64Array(rows * 2 * 2);
    for (let i = 0; i < rows; i++)
      for (const host of [0, 1])
        for (let c = 0; c < 2; c++) fleet[(2 * i + host) * 2 + c] = raw.data[i * 2 + c]! + 100 * host;
    const series = Int32Array.from({ length: rows * 2 }, (_, r) => r % 2);
    const bundle = trainPipeline(
      { raw: { rows: rows * 2, cols: 2, data: fleet }, series },
      { features: { ...features, delta: true }, grid: { trees: [50], maxSamples: ['auto'] } },
    );
    // Without the series, every delta would be a ±100 jump between the hosts.
    const delta = bundle.reference.find((r) => r.feature === 'cpu.delta')!;
    expect(Math.max(-delta.quantiles[0]!, delta.quantiles[100]!)).toBeLessThan(15);
  });

  it('refuses too little data', () => {
    expect(() =>
      trainPipeline({ raw: { rows: 10, cols: 2, data: new Float64Array(20) } }, { features }),
    ).toThrow('at least 30 rows');
  });
});

describe('mass–volume criterion', () => {
  it('prefers a model of the data over a model of something else', () => {
    const rng = new Random(3);
    const cluster = (cx: number): { rows: number; cols: number; data: Float64Array } => ({
      rows: 1000,
      cols: 2,
      data: Float64Array.from({ length: 2000 }, (_, i) => (i % 2 ? 0 : cx) + 0.3 * rng.normal()),
    });
    const data = cluster(0);
    const own = massVolumeArea(data, data, { trees: 100, maxSamples: 'auto', seed: 1 });
    const other = massVolumeArea(cluster(3), data, { trees: 100, maxSamples: 'auto', seed: 1 });
    expect(own).toBeGreaterThan(0);
    expect(own).toBeLessThan(other);
  });
});
