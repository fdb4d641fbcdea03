/**
 * `npm run bench:load`: the service's read path under constant-rate load, next to InfluxDB serving
 * the same read. It starts a throwaway influxd, writes the demo's Telegraf workload (two days, 50
 * hosts by default), starts the built service as its own process (`isoscope serve`), creates the
 * cpu detector, and fills `isoscope_anomaly` with 24 h × 50 entities of results. Then this process (a second one,
 * not the service's) offers requests at a constant rate, open loop: each request leaves at its
 * scheduled time whether or not earlier ones were answered, and its latency counts from that time,
 * so a service that falls behind shows it in p99 instead of slowing the load down.
 *
 * Routes: /healthz; GET /anomalies (24 h, all hosts); POST /grafana/query score for one host and
 * for all hosts (24 h); and the same InfluxQL reads sent straight to influxd (for /anomalies, the
 * query the route sends: the flagged points, not grouped). First throughput
 * (8 clients back to back: answered/s), then latency at 100/s (10/s for all hosts), and last the
 * one-host query at three times the service's throughput, to see overload answered 503 fast. Printed: p50/p99/max of
 * the answers, errors, answered/s per route, and the ratios service/influxd.
 *
 * By default the second day's results are written in the shape the service writes them (every
 * field and tag, flagged where the demo injected incidents); --score-with-service has the service
 * train the cpu detector on day 1 and backfill day 2 instead (minutes on a loaded machine).
 *
 * Options: --hosts N (50), --seconds S per step (5), --timeout MS per request (5000),
 * --max-delay MS the overload setting of the last step (ISOSCOPE_MAX_EVENT_LOOP_DELAY_MS, default
 * 250; 0 skips the step). The other steps run without it, to measure what the service serves.
 * --only a,b runs only those steps, of: one, influx-one, all, influx-all, anomalies,
 * influx-anomalies (throughput, 8 clients), healthz@100, anomalies@100, influx-anomalies@100,
 * one@100, influx-one@100, all@10, overload, anomalies-cpu (in this process: the service's own cost
 * of one /anomalies answer, object reader against byte reader, bench/anomalies-cpu.ts).
 * --cpu-prof DIR runs the service under `node --cpu-prof` and leaves its profile in DIR.
 * --compare DIR runs the same steps against another build too (DIR: its backend directory, with
 * bin/ and dist/, e.g. a copy of an older checkout's), in rounds before, this, this, before on the
 * same data, and prints this build's answered/s over the other's.
 *
 * Each service step also prints what the service measured of itself (/metrics before and after):
 * event-loop delay (p99, max), GC time a second, CPU per answer and mean InfluxDB query time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { telegrafLines } from '../demo/telegraf.js';
import { generateWorkload } from '../demo/workload.js';
import { freePort, startLocalInflux } from '../devtools/influxd.js';
import { Random } from '../engine/index.js';
import { InfluxV1Client, rawQuery, RESULTS_MEASUREMENT } from '../io/influx/index.js';
import { RESULT_COLUMNS, resultLine } from '../service/application/results.js';
import { anomaliesCpu } from './anomalies-cpu.js';

const DAY = 86_400_000;
const TOKEN = 'load-bench-admin-token-0000';
const BIN = fileURLToPath(new URL('../../bin/isoscope.js', import.meta.url));

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(
      `bench:load: --${name} needs a number ≥ 0, got ${process.argv[at + 1] ?? 'nothing'}\n`,
    );
    process.exit(2);
  }
  return value;
}

function log(text: string): void {
  process.stderr.write(`bench:load: ${text}\n`);
}

interface Target {
  name: string;
  /** 'service' or 'influxd': which side of a ratio it is. */
  side: 'service' | 'influxd';
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

interface Step {
  target: string;
  /** Requests a second offered, or 0 for a closed loop (`workers` at a time, back to back). */
  rate: number;
  workers?: number;
  sent: number;
  ok: number;
  /** Answers 503 (refused as overloaded or busy), and their latencies. */
  refused: number;
  refusedMs: number[];
  /** Other statuses, timeouts and connection errors. */
  errors: number;
  latencyMs: number[];
  answeredPerSecond: number;
  /** The service's own account of the step (from /metrics), for service targets. */
  inside?: Inside;
}

/**
 * What the service measured of itself during a step, from /metrics scraped before and after:
 * how late its event loop ran (prom-client's monitorEventLoopDelay, reset at each scrape), its
 * garbage collection and CPU time, and how long its InfluxDB queries took. Tells which queue a
 * slow p99 waited in: the loop (CPU, GC) or InfluxDB.
 */
interface Inside {
  loopP99Ms: number;
  loopMaxMs: number;
  gcMsPerS: number;
  cpuMsPerAnswer: number;
  /** The main thread's busy time per answer (event loop utilization): what bounds throughput. */
  loopMsPerAnswer: number;
  influxQueryMs: number;
  /** Rows the scheduler scored live during the step (on worker threads, sharing the cores). */
  scoredRows: number;
}

/** Prometheus' text format, summed per metric name over the series whose labels contain `match`. */
function metric(text: string, name: string, match = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (match && !rest.includes(match)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One request: resolves to its status (0: timed out or failed) once the whole body has arrived. */
function send(t: Target, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest(
      t.url,
      { method: t.method, headers: t.headers, agent, timeout: timeoutMs },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(t.body);
  });
}

/** A string option's value, or undefined when it is not given. */
function text(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (value === undefined || value.startsWith('--')) {
    process.stderr.write(`bench:load: --${name} needs a value\n`);
    process.exit(2);
  }
  return value;
}

const STEPS = [
  'one',
  'influx-one',
  'all',
  'influx-all',
  'anomalies',
  'influx-anomalies',
  'healthz@100',
  'anomalies@100',
  'influx-anomalies@100',
  'one@100',
  'influx-one@100',
  'all@10',
  'overload',
  'anomalies-cpu',
] as const;

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * Offers `rate` requests a second for `seconds`, open loop, and waits for the last answers. Latency
 * runs from each request's scheduled departure to the end of its answer's body.
 */
async function drive(t: Target, rate: number, seconds: number, timeoutMs: number): Promise<Step> {
  const step: Step = {
    target: t.name,
    rate,
    sent: 0,
    ok: 0,
    refused: 0,
    refusedMs: [],
    errors: 0,
    latencyMs: [],
    answeredPerSecond: 0,
  };
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let lastAnswer = start;
  const inFlight: Array<Promise<void>> = [];
  while (step.sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; step.sent < due; step.sent++) {
      const scheduled = start + (step.sent * 1000) / rate;
      inFlight.push(
        send(t, timeoutMs).then((status) => {
          const now = performance.now();
          const ms = now - scheduled;
          if (status >= 200 && status < 300) {
            step.ok++;
            step.latencyMs.push(ms);
            lastAnswer = now;
          } else if (status === 503) {
            step.refused++;
            step.refusedMs.push(ms);
          } else step.errors++;
        }),
      );
    }
    const next = start + (step.sent * 1000) / rate;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await Promise.all(inFlight);
  step.latencyMs.sort((a, b) => a - b);
  step.refusedMs.sort((a, b) => a - b);
  step.answeredPerSecond = step.ok / (Math.max(seconds * 1000, lastAnswer - start) / 1000);
  return step;
}

/**
 * Throughput: `workers` clients each send the next request as soon as the last is answered, for
 * `seconds`. Unlike an open loop above capacity, nothing piles up to slow the steps after it.
 */
async function saturate(t: Target, workers: number, seconds: number, timeoutMs: number): Promise<Step> {
  const step: Step = {
    target: t.name,
    rate: 0,
    workers,
    sent: 0,
    ok: 0,
    refused: 0,
    refusedMs: [],
    errors: 0,
    latencyMs: [],
    answeredPerSecond: 0,
  };
  const start = performance.now();
  const until = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < until) {
        const sent = performance.now();
        step.sent++;
        const status = await send(t, timeoutMs);
        const ms = performance.now() - sent;
        if (status >= 200 && status < 300) {
          step.ok++;
          step.latencyMs.push(ms);
        } else if (status === 503) {
          step.refused++;
          step.refusedMs.push(ms);
        } else step.errors++;
      }
    }),
  );
  step.latencyMs.sort((a, b) => a - b);
  step.refusedMs.sort((a, b) => a - b);
  step.answeredPerSecond = step.ok / ((performance.now() - start) / 1000);
  return step;
}

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

async function api<T>(base: string, method: 'GET' | 'POST', path: string, body?: object): Promise<T> {
  for (;;) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    // While a model trains on the event loop the overload check refuses calls: wait as told.
    if (res.status === 503 && method === 'GET') {
      await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
      continue;
    }
    if (res.status >= 400) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }
}

async function job(base: string, path: string, body: object, label: string): Promise<void> {
  const { id } = await api<{ id: string }>(base, 'POST', path, body);
  for (;;) {
    const j = await api<{ state: string; error?: string }>(base, 'GET', `/api/v1/jobs/${id}`);
    if (j.state === 'succeeded') return;
    if (j.state !== 'queued' && j.state !== 'running')
      throw new Error(`${label}: job ${j.state}${j.error ? `: ${j.error}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits until the jobs at `path` include one and none is queued or running. */
async function settled(base: string, path: string, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    const jobs = await api<Array<{ kind: string; state: string; error?: string }>>(base, 'GET', path);
    if (jobs.length > 0 && jobs.every((j) => j.state !== 'queued' && j.state !== 'running')) {
      log(`jobs: ${jobs.map((j) => `${j.kind} ${j.state}${j.error ? ` (${j.error})` : ''}`).join(', ')}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`the jobs at ${path} were still running after ${timeoutMs / 1000} s`);
}

const fmt = (ms: number): string => (Number.isNaN(ms) ? '–' : ms < 10 ? ms.toFixed(1) : ms.toFixed(0));

function row(s: Step): string {
  const refused = s.refused ? `${s.refused} (p99 ${fmt(percentile(s.refusedMs, 0.99))} ms)` : '0';
  return `| ${s.target} | ${s.workers ? `${s.workers} at a time` : s.rate} | ${fmt(percentile(s.latencyMs, 0.5))} | ${fmt(percentile(s.latencyMs, 0.99))} | ${fmt(s.latencyMs.at(-1) ?? NaN)} | ${s.errors} | ${refused} | ${s.answeredPerSecond.toFixed(1)} |`;
}

async function main(): Promise<void> {
  const hosts = option('hosts', 50);
  const seconds = option('seconds', 5);
  const timeoutMs = option('timeout', 5000);
  const maxDelay = option('max-delay', 250);
  const scoreWithService = process.argv.includes('--score-with-service');
  const cpuProf = text('cpu-prof');
  const compareDir = text('compare');
  const compareBin = compareDir ? join(compareDir, 'bin', 'isoscope.js') : undefined;
  const only = text('only')?.split(',');
  const unknown = only?.filter((n) => !(STEPS as readonly string[]).includes(n));
  if (unknown?.length) {
    process.stderr.write(`bench:load: --only takes ${STEPS.join(', ')}; not ${unknown.join(', ')}\n`);
    process.exit(2);
  }
  const wanted = (step: (typeof STEPS)[number]): boolean => !only || only.includes(step);
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanUp = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  try {
    log('starting InfluxDB (Debian package influxdb) on a loopback port');
    const influxd = await startLocalInflux();
    cleanups.push(() => influxd.stop());
    const w = generateWorkload({ hosts, days: 2, trainDays: 1 });
    // Two whole days ending at the last midnight: the second is the day every query reads.
    w.startMs = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
    const trainEnd = w.startMs + DAY;
    const end = w.startMs + 2 * DAY;
    const client = new InfluxV1Client({ url: influxd.url, database: 'telegraf' });
    await client.createDatabase();
    let points = 0;
    for (const batch of telegrafLines(w)) {
      await client.write(batch);
      points += batch.length;
    }
    log(
      `wrote ${points.toLocaleString('en-US')} Telegraf points (the demo's workload, ${hosts} hosts × 2 days)`,
    );

    const dataDir = await mkdtemp(join(tmpdir(), 'isoscope-bench-load-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    /**
     * A built service in its own process (`bin`: this build's, or --compare's); `overloadMs` is its
     * ISOSCOPE_MAX_EVENT_LOOP_DELAY_MS. Both builds use the same data directory, one at a time.
     */
    const startService = async (overloadMs: number, bin = BIN): Promise<() => Promise<void>> => {
      const profile = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : [];
      const service: ChildProcess = spawn(process.execPath, [...profile, bin, 'serve'], {
        env: {
          ...process.env,
          ISOSCOPE_HOST: '127.0.0.1',
          ISOSCOPE_PORT: String(port),
          ISOSCOPE_DATA_DIR: dataDir,
          ISOSCOPE_INFLUX_URL: influxd.url,
          ISOSCOPE_INFLUX_DB: 'telegraf',
          ISOSCOPE_BOOTSTRAP_TOKEN: TOKEN,
          ISOSCOPE_LOG_LEVEL: 'warn',
          // The bench is one token at hundreds of requests a second: the per-token limit would
          // answer 429 and measure itself.
          ISOSCOPE_RATE_LIMIT: '0',
          ISOSCOPE_MAX_EVENT_LOOP_DELAY_MS: String(overloadMs),
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const stop = async (): Promise<void> => {
        if (service.exitCode !== null) return;
        const exited = new Promise((r) => service.once('exit', r));
        service.kill('SIGTERM');
        await exited;
      };
      cleanups.push(stop);
      await waitFor(`${base}/healthz`, 30_000);
      return stop;
    };
    // Latency and throughput are measured without the overload answer (what the service can
    // serve), the overload step with it (how fast it refuses what it cannot).
    let stopService = await startService(0);
    log(
      `service (built, its own process) on ${base}; ${scoreWithService ? 'training the cpu detector on day 1 and scoring day 2' : 'writing day 2 results for the cpu detector'}`,
    );
    await api(base, 'POST', '/api/v1/detectors', {
      name: 'cpu',
      spec: { source: { preset: 'cpu' }, intervalSeconds: 60, trainingWindowHours: 24, model: { seed: 1 } },
    });
    if (scoreWithService) {
      await job(
        base,
        '/api/v1/detectors/cpu/train',
        { to: new Date(trainEnd).toISOString(), promote: true },
        'train',
      );
      await job(
        base,
        '/api/v1/detectors/cpu/backfill',
        { from: new Date(trainEnd).toISOString(), to: new Date(end).toISOString() },
        'backfill',
      );
    } else {
      // Results of the shape the service writes (every field and tag), one a host-minute, flagged
      // where the demo injected its incidents: what the read path reads, without the minutes a
      // loaded machine spends training and backfilling 50 models first (--score-with-service).
      const rng = new Random(7);
      for (const h of w.hosts) {
        const lines: string[] = [];
        for (let t = w.trainMinutes; t < w.minutes; t++) {
          const incident = h.labels[t] === 1;
          const score = Math.min(1, Math.max(0, (incident ? 0.75 : 0.3) + 0.08 * rng.normal()));
          const anomaly = score > 0.5;
          lines.push(
            resultLine('cpu', {
              entity: h.host,
              timeMs: w.startMs + t * w.stepMs,
              score,
              threshold: 0.5,
              anomaly,
              severity: anomaly ? (score > 0.8 ? 'critical' : 'high') : 'none',
              modelVersion: 1,
              retrain: 1,
              stage: 'production',
              extra: {},
              ...(anomaly ? { topFeature: 'usage_user' } : {}),
            }),
          );
        }
        await client.write(lines);
      }
    }
    // The scheduler bootstraps a new detector from its history by itself (here 50 models over
    // 24 h: minutes of work on worker threads, then live scoring). Measured during it, the read
    // path would share both cores with training; a service in its steady state only scores live.
    log('waiting for the scheduler to bootstrap the cpu detector (a new detector trains by itself)');
    await settled(base, '/api/v1/detectors/cpu/jobs', 15 * 60_000);
    const range = { from: new Date(trainEnd).toISOString(), to: new Date(end).toISOString() };
    const auth = { authorization: `Bearer ${TOKEN}` };
    const json = { ...auth, 'content-type': 'application/json' };
    const one = w.hosts[0]!.host;
    const grafana = (entity: string): string =>
      JSON.stringify({ range, targets: [{ refId: 'A', detector: 'cpu', entity, return: 'score' }] });
    // What the score query reads, as one InfluxQL statement (the service's own: grouped by entity).
    const influxql = (entity?: string): string =>
      rawQuery(
        RESULTS_MEASUREMENT,
        RESULT_COLUMNS.filter((c) => c !== 'entity'),
        trainEnd,
        end,
        { detector: 'cpu', stage: 'production', ...(entity ? { entity } : {}) },
        { groupBy: ['entity'] },
      );
    // What GET /anomalies reads (ResultsReader.read's query with anomaliesOnly).
    const anomaliesQl = rawQuery(
      RESULTS_MEASUREMENT,
      RESULT_COLUMNS,
      trainEnd,
      end,
      { detector: 'cpu', stage: 'production' },
      { fieldIs: { anomaly: true } },
    );
    const direct = (name: string, q: string): Target => ({
      name,
      side: 'influxd',
      url: `${influxd.url}/query?${new URLSearchParams({ db: 'telegraf', epoch: 'ms', chunked: 'true', chunk_size: '10000', q }).toString()}`,
      method: 'GET',
      headers: {},
    });
    const targets = {
      healthz: {
        name: 'service /healthz',
        side: 'service',
        url: `${base}/healthz`,
        method: 'GET',
        headers: {},
      },
      anomalies: {
        name: `service GET /anomalies (${hosts} hosts)`,
        side: 'service',
        url: `${base}/api/v1/detectors/cpu/anomalies?from=${range.from}&to=${range.to}`,
        method: 'GET',
        headers: auth,
      },
      one: {
        name: 'service grafana/query, 1 host',
        side: 'service',
        url: `${base}/api/v1/grafana/query`,
        method: 'POST',
        headers: json,
        body: grafana(one),
      },
      all: {
        name: `service grafana/query, ${hosts} hosts`,
        side: 'service',
        url: `${base}/api/v1/grafana/query`,
        method: 'POST',
        headers: json,
        body: grafana('*'),
      },
      influxOne: direct('influxd InfluxQL, 1 host', influxql(one)),
      influxAll: direct(`influxd InfluxQL, ${hosts} hosts`, influxql()),
      influxAnomalies: direct(`influxd InfluxQL, anomalies of ${hosts} hosts`, anomaliesQl),
    } satisfies Record<string, Target>;
    const warmUp = async (): Promise<void> => {
      // First answers (JIT, InfluxDB's caches) are not what a busy day sees.
      for (const t of Object.values(targets)) for (let i = 0; i < 5; i++) await send(t, timeoutMs);
    };
    await warmUp();

    const steps: Step[] = [];
    const scrape = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();
    /** Runs a step; for the service's routes, with its own account of it (Inside). */
    const measured = async (t: Target, label: string, step: () => Promise<Step>): Promise<Step> => {
      const before = t.side === 'service' ? await scrape() : undefined;
      const started = performance.now();
      const s = await step();
      if (before !== undefined) {
        const after = await scrape();
        const delta = (name: string, match = ''): number =>
          metric(after, name, match) - metric(before, name, match);
        const elapsed = (performance.now() - started) / 1000;
        const queries = delta('isoscope_influx_request_duration_seconds_count', 'operation="query"');
        s.inside = {
          loopP99Ms: 1000 * metric(after, 'nodejs_eventloop_lag_p99_seconds'),
          loopMaxMs: 1000 * metric(after, 'nodejs_eventloop_lag_max_seconds'),
          gcMsPerS: (1000 * delta('nodejs_gc_duration_seconds_sum')) / elapsed,
          cpuMsPerAnswer: (1000 * delta('process_cpu_seconds_total')) / Math.max(1, s.ok),
          loopMsPerAnswer: (1000 * delta('isoscope_event_loop_busy_seconds_total')) / Math.max(1, s.ok),
          influxQueryMs:
            (1000 * delta('isoscope_influx_request_duration_seconds_sum', 'operation="query"')) /
            Math.max(1, queries),
          scoredRows: delta('isoscope_scoring_rows_total'),
        };
      }
      s.target = label ? `${s.target} [${label}]` : s.target;
      steps.push(s);
      // Let queues drain before the next step.
      await new Promise((r) => setTimeout(r, 1000));
      return s;
    };
    const run = (t: Target, rate: number, label = ''): Promise<Step> => {
      log(`${t.name}${label ? ` [${label}]` : ''} at ${rate}/s for ${seconds} s`);
      return measured(t, label, () => drive(t, rate, seconds, timeoutMs));
    };
    const closed = (t: Target, workers: number, label = ''): Promise<Step> => {
      log(`${t.name}${label ? ` [${label}]` : ''}, ${workers} clients back to back for ${seconds} s`);
      return measured(t, label, () => saturate(t, workers, seconds, timeoutMs));
    };
    interface Round {
      label: string;
      oneMax?: Step;
      influxOneMax?: Step;
      allMax?: Step;
      influxAllMax?: Step;
      anomaliesMax?: Step;
      influxAnomaliesMax?: Step;
      anomaliesAt100?: Step;
      influxAnomaliesAt100?: Step;
      oneAt100?: Step;
      influxOneAt100?: Step;
      allAt10?: Step;
    }
    /** Every wanted step once, against the service running now (`label`: which build). */
    const round = async (label: string): Promise<Round> => {
      const r: Round = { label };
      // Throughput first, on a quiet service: what each side answers a second, 8 clients at a time.
      if (wanted('one')) r.oneMax = await closed(targets.one, 8, label);
      if (wanted('influx-one')) r.influxOneMax = await closed(targets.influxOne, 8, label);
      if (wanted('all')) r.allMax = await closed(targets.all, 8, label);
      if (wanted('influx-all')) r.influxAllMax = await closed(targets.influxAll, 8, label);
      if (wanted('anomalies')) r.anomaliesMax = await closed(targets.anomalies, 8, label);
      if (wanted('influx-anomalies')) r.influxAnomaliesMax = await closed(targets.influxAnomalies, 8, label);
      // Latency at a constant 100 requests a second.
      if (wanted('healthz@100')) await run(targets.healthz, 100, label);
      if (wanted('anomalies@100')) r.anomaliesAt100 = await run(targets.anomalies, 100, label);
      if (wanted('influx-anomalies@100'))
        r.influxAnomaliesAt100 = await run(targets.influxAnomalies, 100, label);
      if (wanted('one@100')) r.oneAt100 = await run(targets.one, 100, label);
      if (wanted('influx-one@100')) r.influxOneAt100 = await run(targets.influxOne, 100, label);
      if (wanted('all@10')) r.allAt10 = await run(targets.all, 10, label);
      return r;
    };
    const rounds: Round[] = [];
    if (compareBin) {
      // Before, this, this, before: a drift of the machine's other load over the run weighs on both.
      for (const which of ['before', 'this', 'this', 'before'] as const) {
        await stopService();
        stopService = await startService(0, which === 'before' ? compareBin : BIN);
        await warmUp();
        rounds.push(await round(which));
      }
    } else rounds.push(await round(''));
    const cpu = wanted('anomalies-cpu')
      ? await anomaliesCpu(influxd.url, 'telegraf', 'cpu', trainEnd, end)
      : [];
    const oneMax = rounds.find((r) => r.label !== 'before')?.oneMax;
    // Overload: three times what the service answered, refused fast instead of queued.
    let overload: Step | undefined;
    if (maxDelay > 0 && wanted('overload')) {
      await stopService();
      stopService = await startService(maxDelay);
      for (let i = 0; i < 5; i++) await send(targets.one, timeoutMs);
      overload = await run(targets.one, Math.max(100, Math.round(3 * (oneMax?.answeredPerSecond ?? 33))));
    }
    await stopService();

    const ratio = (a: Step, b: Step): string => (a.answeredPerSecond / b.answeredPerSecond).toFixed(2);
    const p99 = (s: Step | undefined): string => (s ? fmt(percentile(s.latencyMs, 0.99)) : '–');
    const summary = (r: Round): string[] => {
      const who = r.label ? ` [${r.label}]` : '';
      return [
        ...(r.oneMax && r.influxOneMax
          ? [
              `Throughput service/influxd${who}, one host 24 h: ${ratio(r.oneMax, r.influxOneMax)}× (${r.oneMax.answeredPerSecond.toFixed(0)} against ${r.influxOneMax.answeredPerSecond.toFixed(0)} answered/s).`,
            ]
          : []),
        ...(r.allMax && r.influxAllMax
          ? [
              `Throughput service/influxd${who}, all ${hosts} hosts 24 h: ${ratio(r.allMax, r.influxAllMax)}× (${r.allMax.answeredPerSecond.toFixed(1)} against ${r.influxAllMax.answeredPerSecond.toFixed(1)}).`,
            ]
          : []),
        ...(r.oneAt100 || r.influxOneAt100 || r.allAt10
          ? [
              `p99 at 100/s${who}, one host 24 h (${hosts} entities stored): service ${p99(r.oneAt100)} ms, influxd ${p99(r.influxOneAt100)} ms; all hosts at 10/s: ${p99(r.allAt10)} ms.`,
            ]
          : []),
        ...(r.anomaliesMax
          ? [
              `/anomalies${who}: ${r.anomaliesMax.answeredPerSecond.toFixed(1)} answered/s${r.influxAnomaliesMax ? `, influxd the same read ${r.influxAnomaliesMax.answeredPerSecond.toFixed(1)} (${ratio(r.anomaliesMax, r.influxAnomaliesMax)}×)` : ''}.`,
            ]
          : []),
        ...(r.anomaliesAt100
          ? [
              `/anomalies at 100/s${who}: p50 ${fmt(percentile(r.anomaliesAt100.latencyMs, 0.5))} ms, p99 ${p99(r.anomaliesAt100)} ms, ${r.anomaliesAt100.answeredPerSecond.toFixed(1)} answered/s; influxd the same read p99 ${p99(r.influxAnomaliesAt100)} ms.`,
            ]
          : []),
      ];
    };
    const insideRow = (s: Step): string =>
      s.inside
        ? `| ${s.target} | ${fmt(s.inside.loopP99Ms)} | ${fmt(s.inside.loopMaxMs)} | ${fmt(s.inside.gcMsPerS)} | ${s.inside.loopMsPerAnswer.toFixed(2)} | ${s.inside.cpuMsPerAnswer.toFixed(2)} | ${fmt(s.inside.influxQueryMs)} | ${s.inside.scoredRows} |`
        : '';
    const lines = [
      `## Read path under load (${hosts} hosts × 24 h of stored results, ${seconds} s per step; the last step with the overload answer on)`,
      '',
      '| route | offered/s | p50 ms | p99 ms | max ms | errors | 503 (p99) | answered/s |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...steps.map(row),
      '',
      "The service's own account of each step (/metrics): event-loop delay, GC, CPU, InfluxDB queries",
      '',
      '| route | loop delay p99 ms | loop delay max ms | GC ms/s | loop busy ms per answer | CPU ms per answer (all threads) | InfluxDB query ms (mean) | rows scored live meanwhile |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...steps.map(insideRow).filter((l) => l !== ''),
      '',
      ...rounds.flatMap(summary),
      ...(compareBin ? comparison(rounds) : []),
      ...cpu,
      overload
        ? `Overload (${overload.rate}/s offered, one host, ISOSCOPE_MAX_EVENT_LOOP_DELAY_MS=${maxDelay}): ${overload.ok} answered (p99 ${fmt(percentile(overload.latencyMs, 0.99))} ms), ${overload.refused} refused 503 (p50 ${fmt(percentile(overload.refusedMs, 0.5))} ms, p99 ${fmt(percentile(overload.refusedMs, 0.99))} ms), ${overload.errors} errors or timeouts.`
        : 'Overload step skipped (--max-delay 0 or --only).',
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    agent.destroy();
    await cleanUp();
  }
}

/**
 * This build against --compare's, round by round (before, this, this, before): each this-round's
 * answered/s over the before-round next to it in time, and the same for the service/influxd ratio.
 */
function comparison(
  rounds: Array<{ label: string; oneMax?: Step; allMax?: Step; anomaliesMax?: Step; anomaliesAt100?: Step }>,
): string[] {
  const pairs = [
    [rounds[1], rounds[0]],
    [rounds[2], rounds[3]],
  ] as const;
  const out: string[] = [];
  const names = {
    oneMax: 'one host',
    allMax: 'all hosts',
    anomaliesMax: '/anomalies',
    anomaliesAt100: '/anomalies at 100/s',
  };
  for (const key of ['oneMax', 'allMax', 'anomaliesMax', 'anomaliesAt100'] as const) {
    const what = names[key];
    const ratios = pairs
      .map(([now, before]) =>
        now?.[key] && before?.[key]
          ? (now[key].answeredPerSecond / before[key].answeredPerSecond).toFixed(2)
          : undefined,
      )
      .filter((r) => r !== undefined);
    if (ratios.length) out.push(`This build / --compare's, answered/s, ${what}: ${ratios.join(' and ')}×.`);
  }
  return out;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:load: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
