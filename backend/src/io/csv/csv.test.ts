import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  alignFeatures,
  CsvError,
  describeTimeIssues,
  parseMetricsCsv,
  parseTimestamp,
  readMetricsCsv,
  tokenizeCsv,
  writeCsvAtomic,
} from './index.js';

function records(text: string): Array<[string[], number]> {
  const out: Array<[string[], number]> = [];
  tokenizeCsv(text, (fields, line) => out.push([fields, line]));
  return out;
}

describe('tokenizeCsv', () => {
  it('splits RFC 4180 records with quotes, escaped quotes, embedded newlines and CRLF', () => {
    expect(records('a,b\r\n"x,1","say ""hi"""\n"two\nlines",3\n')).toEqual([
      [['a', 'b'], 1],
      [['x,1', 'say "hi"'], 2],
      [['two\nlines', '3'], 3],
    ]);
  });

  it('skips a byte-order mark and blank lines, and keeps line numbers true to the file', () => {
    expect(records('\ufeffa\n\n1\n\n2')).toEqual([
      [['a'], 1],
      [['1'], 3],
      [['2'], 5],
    ]);
  });

  it('keeps empty fields', () => {
    expect(records('a,,c\n,,\n')).toEqual([
      [['a', '', 'c'], 1],
      [['', '', ''], 2],
    ]);
  });
});

describe('parseTimestamp', () => {
  it.each([
    ['2024-05-01T12:00:00Z', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01 12:00:00', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T12:00:00.250+02:00', Date.UTC(2024, 4, 1, 10, 0, 0, 250)],
    ['2024-05-01T12:00-0130', Date.UTC(2024, 4, 1, 13, 30)],
    ['2024-05-01', Date.UTC(2024, 4, 1)],
    ['1714564800', 1714564800_000],
    ['1714564800123', 1714564800123],
  ])('%s', (text, ms) => expect(parseTimestamp(text)).toBe(ms));

  it.each(['', 'yesterday', '2024-13-01', '2024-02-30', '2024-05-01T25:00:00', '12:00'])(
    'refuses %p',
    (text) => {
      expect(parseTimestamp(text)).toBeNaN();
    },
  );
});

describe('parseMetricsCsv', () => {
  const csv = 'timestamp,cpu,mem,label\n2024-05-01T00:00:00Z,1.5,20,0\n2024-05-01T00:01:00Z,2,21e0,1\n';

  it('takes every numeric column as a feature, apart from time and label', () => {
    const t = parseMetricsCsv(csv, 'm.csv', { labelColumn: 'label' });
    expect(t.featureNames).toEqual(['cpu', 'mem']);
    expect(Array.from(t.matrix.data)).toEqual([1.5, 20, 2, 21]);
    expect(Array.from(t.labels!)).toEqual([0, 1]);
    expect(t.timestampColumn).toBe('timestamp');
    expect(t.timestampRaw).toEqual(['2024-05-01T00:00:00Z', '2024-05-01T00:01:00Z']);
    expect(Array.from(t.timeMs!)).toEqual([Date.UTC(2024, 4, 1), Date.UTC(2024, 4, 1, 0, 1)]);
    expect(Array.from(t.lines)).toEqual([2, 3]);
  });

  it('reads a file without a time column, and a label column left in is a feature unless named', () => {
    const t = parseMetricsCsv('a,label\n1,0\n2,1\n', 'x.csv');
    expect(t.timestampColumn).toBeUndefined();
    expect(t.featureNames).toEqual(['a', 'label']);
  });

  it.each([
    ['', {}, 'e.csv: the file is empty'],
    ['a,b\n', {}, 'e.csv: no data rows after the header'],
    ['a,a\n1,2\n', {}, "e.csv, line 1: column 'a' appears twice"],
    ['a,b\n1,2\n3\n', {}, 'e.csv, line 3: 1 fields, the header has 2'],
    ['a,b\n1,2\n3,x\n', {}, "e.csv, line 3, column 'b': 'x' is not a finite number"],
    ['a,b\n1,\n', {}, "e.csv, line 2, column 'b': empty value"],
    ['a,b\n1,Infinity\n', {}, "e.csv, line 2, column 'b': 'Infinity' is not a finite number"],
    ['a,b\n1,0x10\n', {}, "'0x10' is not a finite number"],
    ['a,b\n1,2\n', { labelColumn: 'y' }, "e.csv, line 1: no label column 'y' (columns: a, b)"],
    ['a,y\n1,2\n', { labelColumn: 'y' }, "e.csv, line 2, column 'y': label '2' is not 0 or 1"],
    ['time,a\nnoon,1\n', {}, "e.csv, line 2, column 'time': 'noon' is not a timestamp"],
    ['time,y\n1,0\n', { labelColumn: 'y' }, 'e.csv, line 1: no feature columns'],
  ])('refuses %p with a message naming file, line and column', (text, options, message) => {
    expect(() => parseMetricsCsv(text, 'e.csv', options)).toThrow(CsvError);
    expect(() => parseMetricsCsv(text, 'e.csv', options)).toThrow(message);
  });

  it('turns empty and NaN cells into NaN when missing values are allowed', () => {
    const t = parseMetricsCsv('a,b\n1,\nNaN,2\n', 'm.csv', { allowMissing: true });
    expect(Array.from(t.matrix.data)).toEqual([1, Number.NaN, Number.NaN, 2]);
  });

  it.each([
    ['host,a\nweb-1,1\nweb-2,2\n', "e.csv, line 2, column 'host': column 'host' is text: not a metric"],
    [
      'Date,a\n2024-05-01,1\n2024-05-02,2\n',
      "e.csv, line 2, column 'Date': column 'Date' holds times: not a metric",
    ],
    ['a,b\n1,\n2,x\n', "e.csv, line 2, column 'b': column 'b' is text"],
  ])('says when a whole column is text or times, not a number with a bad cell: %p', (text, message) => {
    expect(() => parseMetricsCsv(text, 'e.csv')).toThrow(message);
  });

  it('lets the caller name its flags in the hint', () => {
    const columnHint = (c: string, kind: string): string =>
      `use --${kind === 'time' ? 'time' : 'entity'}-column ${c}`;
    expect(() => parseMetricsCsv('host,a\nweb-1,1\n', 'e.csv', { columnHint })).toThrow(
      "column 'host' is text: use --entity-column host",
    );
  });

  it('takes the time column by name, and the entity column as text per row', () => {
    const t = parseMetricsCsv(
      'Date,host,time,a\n2024-05-01T00:00:00Z,web-1,7,1\n2024-05-01T00:00:00Z,web-2,8,2\n',
      'm.csv',
      { timeColumn: 'Date', entityColumn: 'host' },
    );
    expect(t.timestampColumn).toBe('Date');
    expect(t.featureNames).toEqual(['time', 'a']);
    expect(t.entityColumn).toBe('host');
    expect(t.entities).toEqual(['web-1', 'web-2']);
    // Two hosts at the same moment is no repeated time.
    expect(t.timeIssues).toEqual([]);
    expect(() => parseMetricsCsv('a,b\n1,2\n', 'e.csv', { timeColumn: 'Date' })).toThrow(
      "e.csv, line 1: no time column 'Date' (columns: a, b)",
    );
    expect(() => parseMetricsCsv('t,b\n1,2\n', 'e.csv', { timeColumn: 't', entityColumn: 't' })).toThrow(
      "column 't' cannot be both the time and the entity",
    );
  });

  it('keeps repeated, backward and empty times in file order and describes each run once', () => {
    const rows = [
      '2014-11-02 00:59:00', // line 2
      '2014-11-02 01:59:00', // 3
      '2014-11-02 01:00:00', // 4: daylight saving ends, 59 minutes back
      '2014-11-02 01:01:00', // 5
      '2014-11-02 01:01:00', // 6: repeated …
      '2014-11-02 01:01:00', // 7
      '2014-11-02 01:01:00', // 8
      '', // 9: no time
      '2014-11-02 01:03:00', // 10
    ];
    const t = parseMetricsCsv(`timestamp,value\n${rows.map((r, i) => `${r},${i}`).join('\n')}\n`, 'nab.csv');
    expect(t.matrix.rows).toBe(9);
    expect(Array.from(t.matrix.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(t.timeIssues.map((i) => [i.kind, i.line, i.rows])).toEqual([
      ['backward', 4, 1],
      ['repeated', 6, 3],
      ['missing', 9, 1],
    ]);
    expect(t.timeMs![7]).toBe(t.timeMs![6]); // the empty time takes the previous row's
    expect(t.timestampRaw![7]).toBe(''); // and is echoed as written
    expect(describeTimeIssues(t)).toEqual([
      "nab.csv, line 4, column 'timestamp': '2014-11-02 01:00:00' is 59 minutes before line 3's '2014-11-02 01:59:00' (daylight saving or a clock step?): kept in file order",
      "nab.csv, line 6, column 'timestamp': '2014-11-02 01:01:00' repeats the time of line 5, 3 rows up to line 8: kept in file order",
      "nab.csv, line 9, column 'timestamp': no time: taken as line 8's '2014-11-02 01:01:00', kept in file order",
    ]);
    expect(describeTimeIssues(t, 1)).toEqual([
      expect.stringContaining('line 4'),
      'nab.csv: 2 more time problems (4 rows) after line 4, each kept in file order',
    ]);
  });

  it('judges time order within each entity, and fills leading empty times from the first one', () => {
    const t = parseMetricsCsv('host,time,a\nb,,1\na,10,1\nb,20,2\na,5,2\nb,20,3\n', 'm.csv', {
      entityColumn: 'host',
    });
    expect(Array.from(t.timeMs!)).toEqual([20_000, 10_000, 20_000, 5000, 20_000]);
    expect(describeTimeIssues(t)).toEqual([
      "m.csv, line 2, column 'time': no time (host 'b'): taken as the next row's, kept in file order",
      "m.csv, line 5, column 'time': '5' is 5 seconds before line 3's '10' (host 'a') (daylight saving or a clock step?): kept in file order",
      "m.csv, line 6, column 'time': '20' repeats the time of line 4 (host 'b'): kept in file order",
    ]);
  });

  it('skips ignored columns such as tags', () => {
    const t = parseMetricsCsv('host,a\nweb-1,1\n', 'm.csv', { ignoreColumns: ['host'] });
    expect(t.featureNames).toEqual(['a']);
  });
});

describe('alignFeatures', () => {
  it('reorders columns by name to a model’s feature order', () => {
    const t = parseMetricsCsv('b,a\n1,2\n3,4\n', 'm.csv');
    expect(Array.from(alignFeatures(t, ['a', 'b']).data)).toEqual([2, 1, 4, 3]);
  });

  it('names missing and extra columns', () => {
    const t = parseMetricsCsv('b,c\n1,2\n', 'm.csv');
    expect(() => alignFeatures(t, ['a', 'b'])).toThrow("missing feature column 'a'");
    expect(() => alignFeatures(t, ['b'])).toThrow("column 'c' not in the training data");
  });
});

describe('files', () => {
  it('names a missing file', async () => {
    await expect(readMetricsCsv('/nonexistent/x.csv')).rejects.toThrow('/nonexistent/x.csv: no such file');
  });

  it('writes atomically with quoting, and reads back what it wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isoscope-csv-'));
    const file = join(dir, 'out.csv');
    await writeCsvAtomic(
      file,
      ['time', 'note'],
      [
        ['2024-05-01', 'a,"b"'],
        ['2024-05-02', ''],
      ],
    );
    expect(await readFile(file, 'utf8')).toBe('time,note\n2024-05-01,"a,""b"""\n2024-05-02,\n');
    expect(await readdir(dir)).toEqual(['out.csv']);
    await rm(dir, { recursive: true });
  });

  it('leaves no file behind when the rows fail half-way', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isoscope-csv-'));
    function* rows(): Generator<string[]> {
      yield ['1'];
      throw new Error('boom');
    }
    await expect(writeCsvAtomic(join(dir, 'out.csv'), ['a'], rows())).rejects.toThrow('boom');
    expect(await readdir(dir)).toEqual([]);
    await rm(dir, { recursive: true });
  });
});
