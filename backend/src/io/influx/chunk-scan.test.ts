import fc from 'fast-check';
import {
  cellValue,
  ChunkQueryError,
  ChunkSyntaxError,
  JsonColumn,
  scanChunk,
  type SeriesHeader,
} from './chunk-scan.js';

/** Everything scanChunk reports of a line: headers, and each row's cells parsed back from their bytes. */
function scan(line: string | Uint8Array): Array<SeriesHeader & { rows: unknown[][] }> {
  const bytes = typeof line === 'string' ? Buffer.from(line) : line;
  const out: Array<SeriesHeader & { rows: unknown[][] }> = [];
  scanChunk(bytes, (header) => {
    const series = { ...header, rows: [] as unknown[][] };
    out.push(series);
    return (b, cells) => {
      const row: unknown[] = [];
      for (let c = 0; c < header.columns.length; c++) {
        row.push(cells[2 * c]! < 0 ? 'MISSING' : cellValue(b, cells[2 * c]!, cells[2 * c + 1]!));
      }
      series.rows.push(row);
    };
  });
  return out;
}

const cell = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ unit: 'binary' }),
);
const series = fc.record({
  name: fc.string({ unit: 'binary' }),
  tags: fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })),
  width: fc.integer({ min: 1, max: 5 }),
  rows: fc.integer({ min: 0, max: 6 }),
  cells: fc.array(cell, { minLength: 30, maxLength: 30 }),
  partial: fc.boolean(),
});

describe("InfluxDB's chunked JSON read as bytes", () => {
  it('reports every series and every cell as JSON.parse reads them (generated answers, any text)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(series, { maxLength: 3 }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (results, spaced) => {
          const answer = {
            results: results.map((list, statement) => ({
              statement_id: statement,
              ...(list.length
                ? {
                    series: list.map((s) => ({
                      name: s.name,
                      tags: s.tags,
                      columns: Array.from({ length: s.width }, (_, c) => `c${c}`),
                      values: Array.from({ length: s.rows }, (_, r) =>
                        Array.from({ length: s.width }, (_, c) => s.cells[(r * s.width + c) % 30]),
                      ),
                      ...(s.partial ? { partial: true } : {}),
                    })),
                  }
                : {}),
            })),
          };
          // Go writes no whitespace; any JSON is read, spaces and line breaks included.
          const line = spaced ? JSON.stringify(answer, null, 1) : JSON.stringify(answer);
          const expected = answer.results.flatMap((r) =>
            (r.series ?? []).map((s) => ({
              statementId: r.statement_id,
              name: s.name,
              tags: s.tags,
              columns: s.columns,
              rows: s.values,
            })),
          );
          // Through JSON once: -0 is written as 0.
          expect(scan(line)).toEqual(JSON.parse(JSON.stringify(expected)));
        },
      ),
      { seed: 21, numRuns: 300 },
    );
  });

  it('reads values given before their columns, and marks cells a short row lacks', () => {
    const line =
      '{"results":[{"series":[{"values":[[1,"a"],[2]],"columns":["time","v"],"name":"m"}],"statement_id":3}]}';
    expect(scan(line)).toEqual([
      {
        statementId: 3,
        name: 'm',
        columns: ['time', 'v'],
        rows: [
          [1, 'a'],
          [2, 'MISSING'],
        ],
      },
    ]);
  });

  it("refuses a series' name, tags or columns after the values it walked (rows would go to the wrong series)", () => {
    expect(() =>
      scan('{"results":[{"series":[{"columns":["a"],"values":[[1]],"tags":{"h":"x"}}]}]}'),
    ).toThrow(ChunkSyntaxError);
  });

  it("reports InfluxDB's errors, the answer's and a statement's, as ChunkQueryError with its text", () => {
    expect(() => scan('{"error":"database not found: x"}')).toThrow(
      new ChunkQueryError('database not found: x'),
    );
    expect(() => scan('{"results":[{"statement_id":0,"error":"field not found"}]}')).toThrow(
      new ChunkQueryError('field not found'),
    );
  });

  it('refuses what is not its JSON: a proxy page, an answer cut short, trailing text', () => {
    const whole =
      '{"results":[{"statement_id":0,"series":[{"name":"m","columns":["t"],"values":[[1],[2]]}]}]}';
    for (let cut = 1; cut < whole.length; cut++)
      expect(() => scan(whole.slice(0, cut))).toThrow(ChunkSyntaxError);
    expect(() => scan('<html>bad gateway</html>')).toThrow(ChunkSyntaxError);
    expect(() => scan(`${whole} x`)).toThrow(ChunkSyntaxError);
    expect(() => scan('{"results":[{"series":[{"name":"m","values":[[1]]}]}]}')).toThrow(/without columns/);
    expect(scan('   ')).toEqual([]);
  });

  it('skips the rows of a series its handler declines', () => {
    let rows = 0;
    scanChunk(
      Buffer.from(
        '{"results":[{"series":[{"name":"a","columns":["t"],"values":[[1]]},{"name":"b","columns":["t"],"values":[[2],[3]]}]}]}',
      ),
      (h) => (h.name === 'b' ? () => rows++ : undefined),
    );
    expect(rows).toBe(2);
  });
});

describe('JsonColumn', () => {
  it('keeps cells as the text of a JSON array, nulls and missing cells as its null text, growing as needed', () => {
    const bytes = Buffer.from('[12.5,null,"wé\\"b",true]');
    const column = new JsonColumn('"none"');
    for (let i = 0; i < 1000; i++) {
      column.add(bytes, 1, 5);
      column.add(bytes, 6, 10);
      column.add(bytes, 11, 19);
      column.add(bytes, -1, -1);
    }
    expect(column.count).toBe(4000);
    expect(column.present).toBe(2000);
    const values = column.values();
    expect(values.slice(0, 4)).toEqual([12.5, 'none', 'wé"b', 'none']);
    expect(values).toHaveLength(4000);
    expect(new JsonColumn().values()).toEqual([]);
  });

  it('joins the cells of several lines in order, a line of many cells included', () => {
    const column = new JsonColumn('""');
    const expected: unknown[] = [];
    for (let line = 0; line < 3; line++) {
      // The second line has more cells than a scratch array starts with.
      const cells = line === 1 ? 5000 : 3;
      const values = Array.from({ length: cells }, (_, i) => (i % 7 === 0 ? null : `l${line}c${i}`));
      const bytes = Buffer.from(JSON.stringify(values));
      let at = 1;
      for (const v of values) {
        const text = JSON.stringify(v);
        column.add(bytes, at, at + Buffer.byteLength(text));
        at += Buffer.byteLength(text) + 1;
        expected.push(v ?? '');
      }
    }
    expect(column.byteLength).toBe(Buffer.byteLength(JSON.stringify(expected)) - 2);
    expect(column.values()).toEqual(expected);
    // Read twice: the same text.
    expect(column.values()).toEqual(expected);
  });
});
