import { Random } from '../engine/index.js';

/**
 * The quiet corpus: a week of minute data per series that an operator would call normal, from the
 * patterns real hosts show (slow trends, daily and weekly cycles, sawtooths, periodic jobs, counters
 * that reset, steps that stay, gaps). Nothing in it is an anomaly, so every alert the detector
 * raises on it is a false alarm: `npm run bench:quiet` counts them as alert episodes per series-day.
 *
 * Seeded: the same seed gives the same corpus. The week starts on a Monday at 00:00 UTC.
 */
export interface QuietSeries {
  name: string;
  fields: string[];
  /** One time per row (ms); rows missing from the data (gaps) are simply absent. */
  timeMs: Float64Array;
  /** Row-major values, `fields.length` per row; NaN = a missing value. */
  values: Float64Array;
}

const MINUTE = 60_000;
const DAY_MINUTES = 1440;
/** Monday 2026-11-02 00:00 UTC. */
const START_MS = Date.UTC(2026, 10, 2);

/** A generator's view of time: minute index t, hour of day, day of week (0 = Monday). */
interface Clock {
  t: number;
  hour: number;
  weekday: number;
}

type Pattern = (rng: Random) => {
  fields: string[];
  row: (c: Clock) => number[];
  gaps?: (t: number) => boolean;
};

const gauss = (rng: Random): number => rng.normal();
/** Daily load shape: low at night, a broad day peak at 14:00, in [0, 1]. */
const daily = (hour: number): number => 0.5 + 0.5 * Math.cos(((hour - 14) / 24) * 2 * Math.PI);
const weekend = (weekday: number): boolean => weekday >= 5;

const PATTERNS: Record<string, Pattern> = {
  // A data disk filling slowly, cut back by the nightly log rotation at 02:00.
  'disk-filling-rotation': (rng) => {
    let used = 52;
    return {
      fields: ['disk.used_percent'],
      row: ({ t }) => {
        used += 0.004 + 0.002 * gauss(rng);
        if (t % DAY_MINUTES === 120) used -= 4.5;
        return [used + 0.05 * gauss(rng)];
      },
    };
  },
  // A disk that only fills over the week (no rotation): the level is new every day.
  'disk-filling': (rng) => ({
    fields: ['disk.used_percent'],
    row: ({ t }) => [40 + (t / (7 * DAY_MINUTES)) * 12 + 0.08 * gauss(rng)],
  }),
  // CPU with a daily cycle and quieter weekends.
  'cpu-daily-weekly': (rng) => ({
    fields: ['cpu.usage_user'],
    row: ({ hour, weekday }) => [
      Math.max(0, (weekend(weekday) ? 8 : 15) + (weekend(weekday) ? 12 : 35) * daily(hour) + 3 * gauss(rng)),
    ],
  }),
  // A JVM heap: grows between collections, drops at each GC (every 15–25 minutes).
  'jvm-heap-sawtooth': (rng) => {
    let heap = 30;
    let next = 20;
    return {
      fields: ['jvm.heap_used_percent'],
      row: ({ t }) => {
        heap += 2.2 + 0.4 * gauss(rng);
        if (t >= next) {
          heap = 28 + 3 * gauss(rng);
          next = t + 15 + Math.floor(rng.next() * 10);
        }
        return [heap];
      },
    };
  },
  // An hourly batch job: cpu and disk writes up for five minutes at the top of every hour.
  'hourly-batch': (rng) => ({
    fields: ['cpu.usage_user', 'diskio.write_bytes'],
    row: ({ t }) => {
      const on = t % 60 < 5;
      return [
        Math.max(0, (on ? 70 : 10) + 3 * gauss(rng)),
        Math.max(0, (on ? 8e7 : 5e6) * (1 + 0.1 * gauss(rng))),
      ];
    },
  }),
  // A nightly cron burst at 03:00 for ten minutes.
  'nightly-cron': (rng) => ({
    fields: ['cpu.usage_system', 'system.load1'],
    row: ({ t }) => {
      const on = t % DAY_MINUTES >= 180 && t % DAY_MINUTES < 190;
      return [Math.max(0, (on ? 45 : 4) + 1.5 * gauss(rng)), Math.max(0, (on ? 6 : 0.6) + 0.2 * gauss(rng))];
    },
  }),
  // A deploy on Wednesday at 10:00 moves memory and latency to a new level, which stays.
  'deploy-step': (rng) => ({
    fields: ['mem.used_percent', 'http.latency_ms'],
    row: ({ t }) => {
      const after = t >= 2 * DAY_MINUTES + 600;
      return [(after ? 61 : 48) + 0.6 * gauss(rng), (after ? 140 : 95) + 6 * gauss(rng)];
    },
  }),
  // Traffic with a daily cycle, growing 4 % a day.
  'traffic-growing': (rng) => ({
    fields: ['net.bytes_recv'],
    row: ({ t, hour }) => [
      1e6 * Math.pow(1.04, t / DAY_MINUTES) * (0.3 + daily(hour)) * (1 + 0.05 * gauss(rng)),
    ],
  }),
  // A host whose five metrics follow its load.
  'host-follows-load': (rng) => ({
    fields: ['cpu.usage_user', 'mem.used_percent', 'net.bytes_recv', 'net.bytes_sent', 'system.load1'],
    row: ({ hour, weekday }) => {
      const load = (weekend(weekday) ? 0.6 : 1) * (0.2 + daily(hour)) * (1 + 0.08 * gauss(rng));
      return [
        5 + 40 * load + 2 * gauss(rng),
        35 + 15 * load + 0.5 * gauss(rng),
        2e6 * load * (1 + 0.05 * gauss(rng)),
        1.2e6 * load * (1 + 0.05 * gauss(rng)),
        0.5 + 3 * load + 0.2 * gauss(rng),
      ];
    },
  }),
  // A counter (bytes sent since start) that resets to zero at each restart (Tuesday and Friday).
  'counter-reset': (rng) => {
    let total = 3e9;
    return {
      fields: ['net.bytes_sent_total'],
      row: ({ t, hour }) => {
        if (t === DAY_MINUTES + 300 || t === 4 * DAY_MINUTES + 200) total = 0;
        total += 6e6 * (0.3 + daily(hour)) * (1 + 0.1 * gauss(rng));
        return [total];
      },
    };
  },
  // A worker pool scaled to zero at night (22:00–06:00) and back in the morning.
  'zero-at-night': (rng) => ({
    fields: ['jobs.running'],
    row: ({ hour }) => [hour >= 22 || hour < 6 ? 0 : Math.max(0, Math.round(40 + 8 * gauss(rng)))],
  }),
  // Memory on a host whose agent drops out: a few gaps of minutes to an hour, and missing cells.
  'gaps-and-missing': (rng) => ({
    fields: ['mem.used_percent', 'cpu.usage_user'],
    row: ({ hour }) => [
      rng.next() < 0.01 ? Number.NaN : 62 + 2 * daily(hour) + 0.4 * gauss(rng),
      Math.max(0, 10 + 20 * daily(hour) + 2 * gauss(rng)),
    ],
    gaps: (t) =>
      (t >= DAY_MINUTES + 400 && t < DAY_MINUTES + 407) ||
      (t >= 3 * DAY_MINUTES + 900 && t < 3 * DAY_MINUTES + 960) ||
      (t >= 5 * DAY_MINUTES + 30 && t < 5 * DAY_MINUTES + 32),
  }),
  // A baseline that steps up twice and stays (a cache warming, a second tenant moving in).
  'steps-that-stay': (rng) => ({
    fields: ['cpu.usage_system'],
    row: ({ t }) => [(t < 2 * DAY_MINUTES ? 6 : t < 5 * DAY_MINUTES ? 11 : 15) + 0.8 * gauss(rng)],
  }),
  // A strong weekly cycle: a service used on weekdays only.
  'weekdays-only': (rng) => ({
    fields: ['http.requests_per_s'],
    row: ({ hour, weekday }) => [
      Math.max(0, (weekend(weekday) ? 3 : 10 + 120 * daily(hour)) + 4 * gauss(rng)),
    ],
  }),
  // A slowly growing baseline (a leak-free cache growing a little each hour) with noise.
  'slow-baseline': (rng) => ({
    fields: ['mem.used_percent'],
    row: ({ t }) => [40 + 0.001 * t + gauss(rng)],
  }),
  // The bench check of the issue: cpu on a daily sine, memory growing 0.001 per minute (noise ±1).
  'cpu-sine-mem-growth': (rng) => ({
    fields: ['cpu.usage_user', 'mem.used_percent'],
    row: ({ t }) => [
      30 + 20 * Math.sin((2 * Math.PI * t) / DAY_MINUTES) + 2 * gauss(rng),
      40 + 0.001 * t + (rng.next() * 2 - 1),
    ],
  }),
  // Heavy-tailed noise: an idle metric with harmless one-minute blips.
  'idle-with-blips': (rng) => ({
    fields: ['cpu.usage_iowait'],
    row: () => {
      const blip = rng.next() < 0.003 ? 4 + 4 * rng.next() : 0;
      return [Math.max(0, 0.8 + 0.3 * gauss(rng) + blip)];
    },
  }),
  // A queue that is drained in bursts: random arrivals, flushed when it reaches a limit.
  'queue-flush': (rng) => {
    let depth = 0;
    return {
      fields: ['queue.depth'],
      row: () => {
        depth += Math.max(0, 3 + 2 * gauss(rng));
        if (depth > 500) depth = 0;
        return [depth];
      },
    };
  },
};

/** Every pattern once, `days` days of minute data each (7 by default). */
export function quietCorpus(seed = 0, days = 7): QuietSeries[] {
  return Object.entries(PATTERNS).map(([name, pattern], i) => {
    const rng = new Random((seed * 1009 + i * 7919) >>> 0);
    const { fields, row, gaps } = pattern(rng);
    const minutes = days * DAY_MINUTES;
    const times: number[] = [];
    const values: number[] = [];
    for (let t = 0; t < minutes; t++) {
      const clock = { t, hour: (t % DAY_MINUTES) / 60, weekday: Math.floor(t / DAY_MINUTES) % 7 };
      const r = row(clock);
      if (gaps?.(t)) continue;
      times.push(START_MS + t * MINUTE);
      values.push(...r);
    }
    return { name, fields, timeMs: Float64Array.from(times), values: Float64Array.from(values) };
  });
}
