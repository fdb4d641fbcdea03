import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoscope, type CliResult } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

/**
 * Malformed and awkward CSVs through `score`, `replay` and `validate`: each either works (the same
 * scores as the plain file, where the awkwardness is only an encoding detail) or is refused with
 * exit 2, one short line on stderr naming the file, nothing on stdout and no output file.
 * `validate` reports readable data with problems as findings (exit 1). Files are generated here.
 */
const dir = scratchDir('csv-fuzz');
const T0 = 1_700_000_000;
const rows = (n: number, from = 0): string[] =>
  Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return `${T0 + i * 60},${i % 7},${(i * 3) % 11}`;
  });
const HEADER = 'timestamp,cpu,mem';

/** A seeded byte stream (a linear congruential generator): the same "binary" file every run. */
function bytes(n: number, seed = 7): Buffer {
  const out = Buffer.alloc(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const wide = 10_000;
const CASES: Record<string, string | Buffer> = {
  plain: `${HEADER}\n${rows(60).join('\n')}\n`,
  binary: bytes(4000),
  empty: '',
  'header only': `${HEADER}\n`,
  ragged: `${HEADER}\n${rows(20).join('\n')}\n${T0 + 9999},1\n${rows(5, 30).join('\n')}\n`,
  infinity: `${HEADER}\n${rows(20).join('\n')}\n${T0 + 9999},1,Infinity\n`,
  '1e309': `${HEADER}\n${rows(20).join('\n')}\n${T0 + 9999},1e309,1\n`,
  '1e308': `${HEADER}\n${rows(59).join('\n')}\n${T0 + 59 * 60},1e308,-1e308\n`,
  'latin-1': Buffer.concat([
    Buffer.from(`${HEADER}\n${rows(20).join('\n')}\n`),
    Buffer.from([0x63, 0x61, 0x66, 0xe9]), // 'café' in ISO-8859-1
    Buffer.from(',1,2\n'),
  ]),
  bom: `\ufeff${HEADER}\n${rows(60).join('\n')}\n`,
  crlf: `${HEADER}\r\n${rows(60).join('\r\n')}\r\n`,
  'quoted comma': `${HEADER}\n${rows(20).join('\n')}\n${T0 + 9999},"1,5",2\n`,
  'long line': `${HEADER}\n${rows(20).join('\n')}\n${T0 + 9999},${'1'.repeat(4_000_000)},2\n`,
  '10k columns': `${['timestamp', ...Array.from({ length: wide }, (_, c) => `c${c}`)].join(',')}\n${Array.from(
    { length: 30 },
    (_, r) => `${T0 + r * 60},${Array.from({ length: wide }, (_, c) => (r * c) % 13).join(',')}`,
  ).join('\n')}\n`,
};

type Outcome = 'ok' | 'refused' | 'findings';
/** What each command should do with each file: score, replay, validate. */
const EXPECTED: Record<string, [Outcome, Outcome, Outcome]> = {
  plain: ['ok', 'ok', 'ok'],
  binary: ['refused', 'refused', 'refused'],
  empty: ['refused', 'refused', 'refused'],
  'header only': ['refused', 'refused', 'refused'],
  ragged: ['refused', 'refused', 'refused'],
  infinity: ['refused', 'refused', 'findings'],
  '1e309': ['refused', 'refused', 'findings'],
  '1e308': ['ok', 'ok', 'findings'],
  'latin-1': ['refused', 'refused', 'refused'],
  bom: ['ok', 'ok', 'ok'],
  crlf: ['ok', 'ok', 'ok'],
  'quoted comma': ['refused', 'refused', 'findings'],
  'long line': ['refused', 'refused', 'findings'],
  // The model was trained on cpu and mem; a stream learns whatever columns come.
  '10k columns': ['refused', 'ok', 'findings'],
};

const train = join(dir, 'train.csv');
writeFileSync(train, `${HEADER}\n${rows(200).join('\n')}\n`);
const file = (name: string): string => join(dir, `${name.replace(/\W+/g, '-')}.csv`);
for (const [name, content] of Object.entries(CASES)) writeFileSync(file(name), content);

function run(command: string, name: string): { r: CliResult; output?: string } {
  const input = file(name);
  const out = `${input}.${command}.out.csv`;
  const args =
    command === 'score'
      ? ['score', '--train', train, '--input', input, '--output', out]
      : command === 'replay'
        ? ['replay', '--input', input, '--output', out]
        : ['validate', '--input', input, '--reference', train];
  const r = isoscope(args);
  return { r, ...(existsSync(out) ? { output: readFileSync(out, 'utf8') } : {}) };
}

const COMMANDS = ['score', 'replay', 'validate'] as const;

describe('CSV fuzz: score, replay and validate on malformed and awkward files', () => {
  const plain = new Map<string, string | undefined>();

  it.each(Object.keys(CASES).flatMap((name) => COMMANDS.map((command, k) => [name, command, k] as const)))(
    '%s × %s',
    (name, command, k) => {
      const { r, output } = run(command, name);
      const expected = EXPECTED[name]![k]!;
      expect(r.stderr).not.toMatch(/^\s+at /m); // never a stack trace
      if (name === 'binary') expect(r.stderr).toContain('not a text file (a NUL byte at byte');
      if (name === 'latin-1') expect(r.stderr).toContain('not UTF-8 text: save the CSV as UTF-8');
      if (expected === 'refused') {
        expect(r.code).toBe(2);
        const lines = r.stderr.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]!.length).toBeLessThan(700);
        expect(lines[0]).toMatch(new RegExp(`^isoscope ${command}: \\S*${file(name).split('/').pop()}`));
        expect(r.stdout).toBe('');
        expect(output).toBeUndefined();
      } else if (expected === 'findings') {
        expect(r.code).toBe(1);
        expect(r.stdout.length).toBeGreaterThan(0);
      } else {
        expect([r.code, r.stderr.includes('Error')]).toEqual([0, false]);
        if (command === 'validate') return;
        expect(output).toBeDefined();
        if (name === 'plain') plain.set(command, output);
        // A BOM or CRLF endings are encoding details: the very same scores as the plain file.
        if (name === 'bom' || name === 'crlf') expect(output).toBe(plain.get(command));
        if (name !== '10k columns') expect(output!.trimEnd().split('\n')).toHaveLength(61);
      }
    },
  );
});
