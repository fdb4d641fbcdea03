/**
 * `node dist/bench/service-smd.js [machine …]`: the service path on the labelled machines of
 * ../shared/data (SMD, ASD), through the real thing: a throwaway influxd holds train.csv and
 * test.csv as one measurement, a detector is created over HTTP, trained (the bootstrap over the
 * training rows) and promoted, the test rows are backfilled, and the scores are read back from
 * InfluxDB. Beside it, replay's detector in this process over the same rows (defaults, seed 0).
 * Prints PR-AUC and, at the default decision, incidents found, event precision and false alert
 * episodes per day for both, how many test rows are equal to the last bit, and the time of each path as a ratio to the in-process replay.
 */
import { readdir } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  averagePrecision,
  defaultStreamFeatures,
  operatorMetrics,
  StreamingDetector,
} from '../engine/index.js';
import { startLocalInflux } from '../devtools/influxd.js';
import { readMetricsCsv } from '../io/csv/index.js';
import { InfluxV1Client, toLine } from '../io/influx/index.js';
import { buildApp } from '../service/app.js';
import { loadConfig } from '../service/config.js';
import { hashToken } from '../service/plugins/auth.js';

const SHARED = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const TOKEN = 'bench-admin-token-000000000';

async function machines(): Promise<string[]> {
  const asked = process.argv.slice(2);
  if (asked.length > 0) return asked;
  const out: string[] = [];
  for (const set of ['smd', 'asd'])
    for (const m of (await readdir(join(SHARED, set))).sort()) out.push(`${set}/${m}`);
  return out;
}

async function main(): Promise<void> {
  const influxd = await startLocalInflux();
  const dataDir = await mkdtemp(join(tmpdir(), 'isoscope-bench-'));
  try {
    process.stdout.write(
      '| machine | replay PR-AUC | service PR-AUC | replay at the default decision: incidents found, event precision, false episodes/day | the same, service | test rows equal | bootstrap s / 10k rows | service time / replay time |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n',
    );
    for (const machine of await machines()) {
      const train = await readMetricsCsv(join(SHARED, machine, 'train.csv'));
      const test = await readMetricsCsv(join(SHARED, machine, 'test.csv'), { labelColumn: 'label' });
      const fields = train.featureNames;
      const step = train.timeMs![1]! - train.timeMs![0]!;
      // The files' times run on from train to test only in some sets: lay them out one step apart.
      const start = Date.UTC(2024, 0, 1);
      const all = [train, test];
      const times: number[] = [];
      const db = machine.replace(/\W/g, '_');
      const client = new InfluxV1Client({ url: influxd.url, database: db });
      await client.createDatabase();
      let lines: string[] = [];
      let i = 0;
      for (const t of all) {
        for (let r = 0; r < t.matrix.rows; r++, i++) {
          const timeMs = start + i * step;
          times.push(timeMs);
          const values: Record<string, number> = {};
          fields.forEach((f, c) => (values[f] = t.matrix.data[r * t.matrix.cols + c]!));
          lines.push(toLine({ measurement: 'machine', fields: values, timeMs }));
          if (lines.length >= 5000) {
            await client.write(lines);
            lines = [];
          }
        }
      }
      await client.write(lines);
      const testFrom = times[train.matrix.rows]!;
      const end = times.at(-1)! + step;

      // Replay in this process: the same rows, one at a time.
      const replayStarted = performance.now();
      const detector = new StreamingDetector({ features: defaultStreamFeatures(fields), seed: 0 });
      const replayed: Array<{ score: number; anomaly: boolean }> = [];
      i = 0;
      for (const t of all)
        for (let r = 0; r < t.matrix.rows; r++, i++) {
          const x = detector.push(
            t.matrix.data.subarray(r * t.matrix.cols, (r + 1) * t.matrix.cols),
            times[i]!,
          );
          if (i >= train.matrix.rows) replayed.push({ score: x.score, anomaly: x.isAnomaly });
        }
      const replaySeconds = (performance.now() - replayStarted) / 1000;

      // The service: create, bootstrap over the training rows, promote, backfill the test rows.
      const config = loadConfig(
        {},
        { dataDir: join(dataDir, db), influxUrl: influxd.url, influxDb: db, logLevel: 'warn' },
        undefined,
      );
      const app = await buildApp({ config, scheduler: false, now: () => end });
      await app.registry.createToken({ id: 'b', name: 'bench', role: 'admin', hash: hashToken(TOKEN) }, 0);
      const api = async (
        method: 'GET' | 'POST',
        url: string,
        payload?: object,
      ): Promise<Record<string, unknown>> => {
        const res = await app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${TOKEN}` },
          ...(payload ? { payload } : {}),
        });
        if (res.statusCode >= 400) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
        return res.json() as Record<string, unknown>;
      };
      const serviceStarted = performance.now();
      await api('POST', '/api/v1/detectors', {
        name: 'machine',
        spec: {
          source: { measurement: 'machine', fields: fields.map((field) => ({ field, aggregate: 'mean' })) },
          intervalSeconds: step / 1000,
          trainingWindowHours: Math.ceil((train.matrix.rows * step) / 3_600_000),
          model: { seed: 0 },
        },
      });
      const trainJob = await api('POST', '/api/v1/detectors/machine/train', {
        to: new Date(testFrom).toISOString(),
        promote: true,
      });
      const bootStarted = performance.now();
      await app.jobs.finished(trainJob.id as string);
      const bootSeconds = (performance.now() - bootStarted) / 1000;
      const backfill = await api('POST', '/api/v1/detectors/machine/backfill', {
        from: new Date(testFrom).toISOString(),
        to: new Date(end).toISOString(),
      });
      await app.jobs.finished(backfill.id as string);
      const results = await app.resultsReader.read('machine', testFrom, end);
      const serviceSeconds = (performance.now() - serviceStarted) / 1000;
      await app.close();

      const labels = test.labels!;
      const byTime = new Map(results.map((r) => [r.timeMs, r]));
      const served = times.slice(train.matrix.rows).map((t) => byTime.get(t));
      const serviceScores = Float64Array.from(served, (r) => r?.score ?? 0);
      const serviceFlags = Uint8Array.from(served, (r) => (r?.anomaly ? 1 : 0));
      const replayScores = Float64Array.from(replayed, (r) => r.score);
      const replayFlags = Uint8Array.from(replayed, (r) => (r.anomaly ? 1 : 0));
      const equal = served.filter(
        (r, k) => r && r.score === replayed[k]!.score && r.anomaly === replayed[k]!.anomaly,
      ).length;
      // What an operator meets at the default decision: incidents found, the share of alert
      // episodes worth waking for, and false episodes per day of the machine's test period.
      const testTimes = times.slice(train.matrix.rows);
      const decisions = (flags: Uint8Array): string => {
        const m = operatorMetrics({ decisions: flags, labels, times: testTimes });
        const precision = Number.isNaN(m.eventPrecision) ? '–' : m.eventPrecision.toFixed(2);
        return `${m.found}/${m.incidents}, ${precision}, ${m.falseEpisodesPerSeriesDay.toFixed(2)}`;
      };
      process.stdout.write(
        `| ${machine} | ${averagePrecision(replayScores, labels).toFixed(3)} | ${averagePrecision(serviceScores, labels).toFixed(3)} | ${decisions(replayFlags)} | ${decisions(serviceFlags)} | ${equal}/${labels.length} | ${((bootSeconds * 10_000) / train.matrix.rows).toFixed(1)} | ${(serviceSeconds / replaySeconds).toFixed(2)} |\n`,
      );
    }
  } finally {
    await influxd.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
