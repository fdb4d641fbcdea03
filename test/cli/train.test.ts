import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoscope } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

describe('isoscope train', () => {
  const dir = scratchDir('train');
  const input = join(dir, 'in.csv');
  const rows = Array.from({ length: 1500 }, (_, i) => {
    const incident = i % 150 >= 144;
    const load = Math.sin(i / 40) + 0.05 * Math.cos(i * 7.3);
    return `${1700000000 + 60 * i},${(20 + 5 * load + (incident ? 15 : 0)).toFixed(3)},${(40 + 3 * load).toFixed(3)},${incident ? 1 : 0}`;
  });
  writeFileSync(input, `timestamp,cpu,mem,label\n${rows.join('\n')}\n`);

  it('writes a model bundle and reports the split, the grid, the test metrics and robustness', () => {
    const out = join(dir, 'model.isoscope');
    const grid = join(dir, 'grid.csv');
    const plot = join(dir, 'test-scores.svg');
    const r = isoscope([
      'train',
      '--plot',
      plot,
      '--input',
      input,
      '--label-column',
      'label',
      '--out',
      out,
      '--grid-csv',
      grid,
    ]);
    // Nothing but progress (which a loaded machine prints after a second): no warning, no error.
    expect(r.stderr.split('\n').filter((l) => l !== '' && !/^[\w ]+: \d+% \(/.test(l))).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1500 rows → train 1050, validation 225, test 225 (in time order)');
    expect(r.stdout).toContain('grid search by F1 on the validation part');
    expect(r.stdout).toContain('robustness on the test part');
    const bundle = JSON.parse(readFileSync(out, 'utf8')) as {
      format: string;
      featureNames: string[];
      model: string;
    };
    expect(bundle.format).toBe('isoscope-model');
    expect(bundle.featureNames).toEqual(['cpu', 'mem']);
    const svg = readFileSync(plot, 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('stroke="#d93025"'); // the threshold
    expect(svg).toContain('fill="#e0752d"'); // labelled anomalous rows
    expect(readFileSync(grid, 'utf8').split('\n')[0]).toBe(
      'trees,max_samples,shingle,contamination,validation_f1',
    );
  });

  it("records how the model scores beyond its ranges: 'isolate' by default, 'clamp' when asked", () => {
    const modeOf = (extra: string[]): unknown => {
      const out = join(dir, `mode${extra.join('')}.isoscope`);
      const r = isoscope(['train', '--input', input, '--ignore-column', 'label', '--out', out, ...extra]);
      expect(r.code).toBe(0);
      return (JSON.parse(readFileSync(out, 'utf8')) as { params: { outOfRange: unknown } }).params.outOfRange;
    };
    expect(modeOf([])).toBe('isolate');
    expect(modeOf(['--out-of-range', 'clamp'])).toBe('clamp');
    const r = isoscope([
      'train',
      '--input',
      input,
      '--out',
      join(dir, 'never.isoscope'),
      '--out-of-range',
      'x',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--out-of-range must be 'clamp' or 'isolate', got 'x'");
  });

  it('refuses too few rows with exit code 2', () => {
    const small = join(dir, 'small.csv');
    writeFileSync(small, 'cpu\n1\n2\n3\n');
    const r = isoscope(['train', '--input', small, '--out', join(dir, 'never.isoscope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('3 rows: training needs at least 30');
  });
});
