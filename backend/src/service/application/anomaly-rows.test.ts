import fc from 'fast-check';
import Fastify from 'fastify';
import { Type } from 'typebox';
import { scanChunk, type SeriesHandler } from '../../io/influx/index.js';
import { Anomaly } from '../schemas/index.js';
import { anomaliesJson } from './anomaly-rows.js';
import { anomalyObject, RESULT_COLUMNS, ResultsReader, type StoredResult } from './results.js';

const COLUMNS = ['time', ...RESULT_COLUMNS];

/** JSON texts of numbers as other writers than Go's may put them: exponents, `5.0`, `-0`, long. */
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x.toExponential()),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((x) => x.toFixed(3)),
  fc.integer().map((x) => `${x}.0`),
  fc.constantFrom('-0', '-0.0', '1e-07', '1E+21', '1e21', '0.0000001', '123456789012345678901', '5e-324'),
  fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
);
/** Any cell: numbers, text with and without escapes, booleans, null. */
const cellText = fc.oneof(
  numberText,
  fc.string({ unit: 'binary' }).map((s) => JSON.stringify(s)),
  fc.string().map((s) => JSON.stringify(s).replace(/</g, '\\u003c')),
  fc.constantFrom('null', 'true', 'false', '"high"', '"critical"', '"low"', '"none"', '"toString"'),
);
const versionText = fc.oneof(
  fc.nat(30).map((v) => JSON.stringify(String(v))),
  fc.constantFrom('"007"', '"2.5"', '"-0"', '"1e3"', '" 4"', '""', 'null', '"12345678901234567"'),
);
const row = fc.record({
  time: fc.integer({ min: 0, max: 3 }).map((t) => String(1_700_000_000_000 + t * 60_000)),
  cells: fc.array(cellText, { minLength: 6, maxLength: 6 }),
  anomaly: fc.constantFrom<string>('true', 'true', 'false', 'null', '"true"'),
  entity: fc.constantFrom<string>(
    '"web-1"',
    '"Web-2"',
    '"db 1"',
    'null',
    '"\\u003cb\\u003e"',
    '"é"',
    '"e\\u0301"',
  ),
  version: versionText,
});

/** What the route answered before: read()'s objects, mapped, through the schema's serializer. */
async function before(results: StoredResult[]): Promise<string> {
  const app = Fastify();
  app.get('/', { schema: { response: { 200: Type.Array(Anomaly) } } }, async () =>
    results.map(anomalyObject),
  );
  const answer = await app.inject({ url: '/' });
  await app.close();
  return answer.statusCode === 200 ? answer.body : `status ${answer.statusCode}`;
}

describe('the anomalies answer written from bytes', () => {
  it('is what the object reader and the schema serializer wrote, for cells in any notation (generated answers)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { maxLength: 12 }),
        fc.constantFrom(undefined, 'high'),
        async (rows, min) => {
          // One answer's line, read by the object reader (JSON.parse, as the client's query()) and
          // by the byte reader (the client's scan()).
          const line = `{"results":[{"statement_id":0,"series":[{"name":"isoscope_anomaly","columns":${JSON.stringify(COLUMNS)},"values":[${rows
            .map((r) => {
              const [score, threshold, severity, retrain, top, contribution] = r.cells;
              return `[${[r.time, score, threshold, r.anomaly, severity, retrain, top, contribution, r.entity, r.version].join(',')}]`;
            })
            .join(',')}]}]}]}`;
          const reader = new ResultsReader({
            query: async () => [
              (JSON.parse(line) as { results: Array<{ series: unknown[] }> }).results[0]!.series,
            ],
            scan: async (_q: string, onSeries: SeriesHandler) => scanChunk(Buffer.from(line), onSeries),
          } as never);
          const q = min ? { minSeverity: min } : {};
          let want: string;
          try {
            want = await before(await reader.read('cpu', 0, 1, { anomaliesOnly: true, ...q }));
          } catch {
            want = 'threw';
          }
          let got: string;
          try {
            got = anomaliesJson(await reader.anomalies('cpu', 0, 1, q)).toString('utf8');
          } catch {
            got = want.startsWith('status 500') ? want : 'threw';
          }
          expect(got).toBe(want);
        },
      ),
      {
        seed: 21,
        numRuns: 300,
        // Two spellings of é the collator holds equal, at one time in the answer's order, the
        // other one seen first: they stay in the answer's order, as read()'s stable sort kept them.
        examples: [
          [
            [
              {
                time: '1700000000000',
                cells: ['0.5', 'null', '"high"', '1', 'null', 'null'],
                anomaly: 'true',
                entity: '"é"',
                version: '"1"',
              },
              {
                time: '1700000060000',
                cells: ['0.6', 'null', '"high"', '1', 'null', 'null'],
                anomaly: 'true',
                entity: '"e\u0301"',
                version: '"1"',
              },
              {
                time: '1700000060000',
                cells: ['0.7', 'null', '"high"', '1', 'null', 'null'],
                anomaly: 'true',
                entity: '"é"',
                version: '"1"',
              },
            ],
            undefined,
          ],
        ],
      },
    );
  });
});
