import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoscope } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

/** A cell of megabytes is refused with a one-line message quoting only an excerpt of it, exit 2. */
describe('isoscope with a huge bad cell', () => {
  const dir = scratchDir('huge');
  const train = join(dir, 'train.csv');
  const rows = [
    'timestamp,cpu',
    ...Array.from({ length: 50 }, (_, i) => `${1_700_000_000 + i * 60},${i % 7}`),
  ];
  writeFileSync(train, `${rows.join('\n')}\n`);
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, `timestamp,cpu\n1700000000,1\n1700000060,${'x'.repeat(8_000_000)}\n`);

  it.each([
    ['score', ['score', '--train', train, '--input', bad, '--output', join(dir, 'score.csv')], 'score.csv'],
    ['replay', ['replay', '--input', bad, '--output', join(dir, 'replay.csv')], 'replay.csv'],
  ])('%s: exit 2, one short line on stderr, no output file', (_name, args, out) => {
    const r = isoscope(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.length).toBeLessThan(700);
    expect(r.stderr).toMatch(/bad\.csv.*line 3/);
    expect(existsSync(join(dir, out))).toBe(false);
  });
});
