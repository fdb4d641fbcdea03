import { endAlert, evaluateAlertRule, type AlertState } from './alerting.js';
import type { ScoredRow } from './application/runtime.js';

const MIN = 60_000;
const describeIt = { detector: 'cpu', entity: 'web-1', link: (t: number) => `/explain?time=${t}` };
const rule = { window: 3, minAnomalous: 2, cooldownMinutes: 30 };

function row(i: number, anomaly: boolean): ScoredRow {
  return {
    entity: 'web-1',
    timeMs: i * MIN,
    score: anomaly ? 0.8 : 0.3,
    threshold: 0.5,
    anomaly,
    severity: anomaly ? 'high' : 'none',
    modelVersion: 1,
    retrain: 1,
    stage: 'production',
    extra: {},
  };
}

describe('endAlert: an open alert ended because its points were suppressed afterwards', () => {
  it('sends the resolution the rule would have sent, forgets the window and starts the cooldown', () => {
    const fired = evaluateAlertRule(
      rule,
      { recent: [], firing: false },
      [row(0, true), row(1, true)],
      describeIt,
    );
    expect(fired.events.map((e) => e.status)).toEqual(['firing']);
    const { state, events } = endAlert(fired.state, 5 * MIN, describeIt);
    expect(events).toEqual([
      {
        status: 'resolved',
        detector: 'cpu',
        entity: 'web-1',
        severity: 'high',
        score: 0.8,
        startsAt: MIN,
        endsAt: 5 * MIN,
        topFeatures: [],
        link: `/explain?time=${MIN}`,
      },
    ]);
    expect(state).toMatchObject({ firing: false, recent: [0, 0], lastEndedAt: 5 * MIN });
    // Within the cooldown, new flags do not page again, as after any resolution.
    const again = evaluateAlertRule(rule, state, [row(6, true), row(7, true)], describeIt);
    expect(again.events).toEqual([]);
  });

  it('does nothing when no alert is open', () => {
    const quiet: AlertState = { recent: [0, 1], firing: false };
    expect(endAlert(quiet, 5 * MIN, describeIt)).toEqual({ state: quiet, events: [] });
  });
});
