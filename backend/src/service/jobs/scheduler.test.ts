import { readSpec } from '../domain/spec.js';
import type { Runtimes } from '../application/runtimes.js';
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
