import { readSpec } from '../domain/spec.js';
import { ScoringInterrupted, type Runtimes } from '../application/runtimes.js';
import type { ScoredRow } from '../application/runtime.js';
import { Health } from '../application/health.js';
import type { Registry } from '../../io/registry/index.js';
import { Scheduler, type SchedulerDeps } from './scheduler.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const spec = readSpec('cpu', {
  source: { preset: 'cpu' },
  schedule: { retrainEveryHours: 24, promotion: 'manual' },
});

/** The scheduler with fakes: what it scores, trains and alerts is recorded. */
function fakeScheduler(training: { newestAt?: number; running: boolean; failedAt?: number }) {
  const calls: string[] = [];
  const deps: SchedulerDeps = {
    runtimes: {
      scoreUpTo: async (id: string, to: number) => {
        calls.push(`score ${id} to ${to / MIN}`);
        return { rows: 1, anomalies: 0, scored: [], scoredTo: to };
      },
    } as unknown as Runtimes,
    detectors: async () => [{ id: 'cpu', spec }],
    training: async () => training,
    startTraining: async (id, o) => {
      calls.push(`train ${id} to ${o.to / MIN}: ${o.trigger}${o.policy ? ` (${o.policy})` : ''}`);
    },
    alerts: async (id, _spec, rows) => {
      calls.push(`alerts ${id} ${rows.length}`);
      return [];
    },
    now: () => 0,
    // Recording outcomes needs no registry (only the health answer reads it).
    outcomes: new Health({ registry: {} as Registry, now: () => 0 }),
    log: {
      info: () => undefined,
      warn: (d) => calls.push(`warn ${JSON.stringify(d)}`),
      error: () => undefined,
    },
  };
  return { scheduler: new Scheduler(deps), calls };
}

describe('Scheduler (fakes)', () => {
  it('scores whole intervals when due, then bootstraps a detector that has no version yet', async () => {
    const { scheduler, calls } = fakeScheduler({ running: false });
    await scheduler.tick(10 * MIN + 30_000);
    await scheduler.tick(10 * MIN + 40_000); // not due: scoreEverySeconds is 60
    expect(calls).toEqual([
      'score cpu to 10',
      'alerts cpu 0',
      'train cpu to 10.5: first bootstrap',
      'train cpu to 10.666666666666666: first bootstrap',
    ]);
  });

  it('waits an hour after a failed first bootstrap, and never starts a second training beside one', async () => {
    const failed = fakeScheduler({ running: false, failedAt: 0 });
    await failed.scheduler.tick(30 * MIN);
    expect(failed.calls.filter((c) => c.startsWith('train'))).toEqual([]);
    await failed.scheduler.tick(61 * MIN);
    expect(failed.calls.filter((c) => c.startsWith('train'))).toEqual(['train cpu to 61: first bootstrap']);
    const busy = fakeScheduler({ running: true });
    await busy.scheduler.tick(30 * MIN);
    expect(busy.calls.filter((c) => c.startsWith('train'))).toEqual([]);
  });

  it('retrains on the schedule with the promotion policy', async () => {
    const { scheduler, calls } = fakeScheduler({ running: false, newestAt: 0 });
    await scheduler.tick(23 * HOUR);
    expect(calls.filter((c) => c.startsWith('train'))).toEqual([]);
    await scheduler.tick(24 * HOUR);
    expect(calls.filter((c) => c.startsWith('train'))).toEqual([
      'train cpu to 1440: scheduled retrain (every 24 h) (manual)',
    ]);
  });

  it('logs a failed scoring and goes on with the next tick', async () => {
    const { scheduler, calls } = fakeScheduler({ running: false, newestAt: 0 });
    (scheduler as unknown as { deps: SchedulerDeps }).deps.runtimes.scoreUpTo = async () => {
      throw new Error('influx down');
    };
    await scheduler.tick(MIN);
    expect(calls).toEqual(['warn {"detector":"cpu","err":"influx down"}']);
  });

  it('reports the age of its last whole pass, stale after three intervals without one, fresh again after', async () => {
    let clock = 0;
    let hang: Promise<void> | undefined;
    let release = (): void => undefined;
    const { scheduler } = fakeScheduler({ running: false, newestAt: 0 });
    const deps = (scheduler as unknown as { deps: SchedulerDeps }).deps;
    deps.now = () => clock;
    const detectors = deps.detectors;
    // A registry (or InfluxDB) call that never answers holds the pass.
    deps.detectors = async () => {
      if (hang) await hang;
      return detectors();
    };
    scheduler.start(10_000);
    try {
      expect(scheduler.health()).toMatchObject({ stale: false, everySeconds: 10, failing: [] });
      await scheduler.tick(MIN);
      clock = 5_000;
      expect(scheduler.health()).toMatchObject({ lastPassAgeSeconds: 5, stale: false });
      hang = new Promise<void>((r) => (release = r));
      const held = scheduler.tick(2 * MIN);
      clock = 30_000; // three intervals after the last pass: not yet stale
      expect(scheduler.health().stale).toBe(false);
      clock = 30_001;
      expect(scheduler.health()).toMatchObject({ lastPassAgeSeconds: 30.001, stale: true });
      hang = undefined;
      release();
      await held;
      expect(scheduler.health()).toMatchObject({ lastPassAgeSeconds: 0, stale: false });
    } finally {
      await scheduler.stop();
    }
    // Stopped: stale never applies (readiness says "stopped" instead).
    clock = 10 * MIN;
    expect(scheduler.health().stale).toBe(false);
  });

  it('lists a detector that fails to score, since its first failure, until it scores again', async () => {
    const { scheduler } = fakeScheduler({ running: false, newestAt: 0 });
    const deps = (scheduler as unknown as { deps: SchedulerDeps }).deps;
    const score = deps.runtimes.scoreUpTo;
    let n = 0;
    deps.runtimes.scoreUpTo = async () => {
      throw new Error(`InfluxDB did not answer within 30000 ms (${++n})`);
    };
    await scheduler.tick(MIN);
    await scheduler.tick(2 * MIN);
    expect(scheduler.health().failing).toEqual([
      { detector: 'cpu', since: MIN, error: 'InfluxDB did not answer within 30000 ms (2)' },
    ]);
    deps.runtimes.scoreUpTo = score;
    await scheduler.tick(3 * MIN);
    expect(scheduler.health().failing).toEqual([]);
    // The same record the health answer and the metrics read.
    expect((deps.outcomes as Health).failureStates()).toEqual([
      { detector: 'cpu', total: 2, failing: false },
    ]);
    // A detector deleted while failing is no longer listed.
    deps.runtimes.scoreUpTo = async () => {
      throw new Error('gone');
    };
    await scheduler.tick(4 * MIN);
    expect(scheduler.health().failing).toHaveLength(1);
    deps.detectors = async () => [];
    await scheduler.tick(5 * MIN);
    expect(scheduler.health().failing).toEqual([]);
  });
});

describe('Scheduler when InfluxDB does not take results (fakes)', () => {
  it('fails the pass naming the write, alerts on the entities saved before it, and lists the detector as failing', async () => {
    const { scheduler, calls } = fakeScheduler({ running: false, newestAt: 0 });
    const deps = (scheduler as unknown as { deps: SchedulerDeps }).deps;
    const saved = [{ entity: 'web-1', timeMs: 0, anomaly: true }] as unknown as ScoredRow[];
    deps.runtimes.scoreUpTo = async () => {
      throw new ScoringInterrupted(new Error('InfluxDB has not taken the results within 20 s'), saved);
    };
    await scheduler.tick(MIN);
    expect(calls).toEqual([
      'alerts cpu 1',
      'warn {"detector":"cpu","err":"InfluxDB has not taken the results within 20 s"}',
    ]);
    expect(scheduler.health().failing).toEqual([
      { detector: 'cpu', since: MIN, error: 'InfluxDB has not taken the results within 20 s' },
    ]);
  });
});

describe('Scheduler in queue mode (fakes)', () => {
  it('enqueues due intervals instead of scoring, still trains, and skips a pass another replica holds', async () => {
    const { scheduler, calls } = fakeScheduler({ running: false });
    const deps = (scheduler as unknown as { deps: SchedulerDeps }).deps;
    let held = false;
    deps.dispatch = async (id, _spec, to) => void calls.push(`enqueue ${id} to ${to / MIN}`);
    deps.exclusive = async (pass) => (held ? undefined : pass());
    await scheduler.tick(10 * MIN + 30_000);
    await scheduler.tick(10 * MIN + 40_000); // not due: scoreEverySeconds is 60
    held = true;
    await scheduler.tick(12 * MIN); // another replica runs this pass
    held = false;
    await scheduler.tick(12 * MIN + 1);
    expect(calls).toEqual([
      'enqueue cpu to 10',
      'train cpu to 10.5: first bootstrap',
      'train cpu to 10.666666666666666: first bootstrap',
      'enqueue cpu to 12',
      'train cpu to 12.000016666666667: first bootstrap',
    ]);
  });

  it('logs a failed enqueue and tries again on the next tick', async () => {
    const { scheduler, calls } = fakeScheduler({ running: false, newestAt: 0 });
    const deps = (scheduler as unknown as { deps: SchedulerDeps }).deps;
    let down = true;
    deps.dispatch = async (id, _spec, to) => {
      if (down) throw new Error('postgres down');
      calls.push(`enqueue ${id} to ${to / MIN}`);
    };
    await scheduler.tick(MIN);
    down = false;
    await scheduler.tick(MIN + 1000);
    expect(calls).toEqual(['warn {"detector":"cpu","err":"postgres down"}', 'enqueue cpu to 1']);
  });
});
