import { alertCount, firingPoints, thresholdForAlertBudget } from './alert-budget.js';
import fc from 'fast-check';
import {
  averagePrecision,
  bestF1,
  eventRecall,
  pointMetrics,
  precisionRecallCurve,
  rocAuc,
  runsOf,
} from './metrics.js';

/** ROC-AUC by its definition: over all (anomaly, normal) pairs, 1 when the anomaly scores higher, ½ on ties. */
function pairwiseAuc(scores: number[], labels: number[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!labels[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j]) continue;
      pairs++;
      sum += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return sum / pairs;
}

describe('rocAuc', () => {
  it('matches scikit-learn on its documented example', () => {
    // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
  });

  it('equals the pairwise definition, ties included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()), { minLength: 2, maxLength: 60 }),
        (rows) => {
          const scores = rows.map(([s]) => s);
          const labels = rows.map(([, l]) => (l ? 1 : 0));
          fc.pre(labels.includes(0) && labels.includes(1));
          expect(rocAuc(scores, labels)).toBeCloseTo(pairwiseAuc(scores, labels), 12);
        },
      ),
    );
  });

  it('is NaN with a single class and refuses mismatched lengths', () => {
    expect(rocAuc([1, 2], [0, 0])).toBeNaN();
    expect(() => rocAuc([1, 2], [0])).toThrow('2 scores for 1 labels');
  });
});

describe('averagePrecision and the PR curve', () => {
  it('matches scikit-learn on its documented example', () => {
    // sklearn.metrics.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.8333…
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.8333333333, 9);
  });

  it('groups tied scores into one threshold', () => {
    expect(precisionRecallCurve([1, 1, 0], [1, 0, 0])).toEqual([
      { threshold: 1, precision: 0.5, recall: 1 },
      { threshold: 0, precision: 1 / 3, recall: 1 },
    ]);
    expect(averagePrecision([1, 1, 0], [1, 0, 0])).toBe(0.5);
  });

  it('is 1 for a perfect ranking', () => {
    expect(averagePrecision([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0])).toBe(1);
    expect(bestF1([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0])).toEqual({ f1: 1, threshold: 0.8 });
  });
});

describe('pointMetrics', () => {
  it('counts the confusion matrix and derives precision, recall and F1', () => {
    const m = pointMetrics([1, 1, 0, 0, 1], [1, 0, 1, 0, 1]);
    expect(m).toMatchObject({ truePositives: 2, falsePositives: 1, falseNegatives: 1, trueNegatives: 1 });
    expect(m.precision).toBeCloseTo(2 / 3);
    expect(m.recall).toBeCloseTo(2 / 3);
    expect(m.f1).toBeCloseTo(2 / 3);
  });

  it('gives 0 rather than NaN when nothing is flagged', () => {
    expect(pointMetrics([0, 0], [1, 0])).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  });
});

describe('eventRecall', () => {
  it('finds an incident when any point inside is flagged, with the delay', () => {
    const labels = [0, 1, 1, 1, 0, 0, 1, 1, 0, 0];
    const flags = [0, 0, 0, 1, 0, 0, 0, 0, 1, 1];
    const times = labels.map((_, i) => i * 60_000);
    const r = eventRecall(flags, labels, times);
    expect(r.events).toEqual([
      { start: 1, end: 3, found: true, delayRows: 2, delay: 120_000 },
      { start: 6, end: 7, found: false },
    ]);
    expect(r.found).toBe(1);
    expect(r.recall).toBe(0.5);
    expect(r.falseAlarmRuns).toBe(1);
  });

  it('splits runs', () => {
    expect(runsOf([1, 1, 0, 1, 0, 0, 1])).toEqual([
      [0, 1],
      [3, 3],
      [6, 6],
    ]);
  });
});

describe('alert budget', () => {
  const rule = { window: 5, minAnomalous: 3 };

  it('fires on N of M anomalous points', () => {
    expect(Array.from(firingPoints([1, 0, 1, 0, 1, 0, 0, 0, 0, 0], rule))).toEqual([
      0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
    ]);
    // Fires at t=4, stops at t=5 (only 2 of 5), fires again from t=6: two alerts, as a pager sees them.
    expect(alertCount([0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.9, 0.9], 0.5, rule)).toBe(2);
  });

  it('picks the lowest threshold that keeps alerts within the budget', () => {
    // Three bursts of 3 high scores at 0.7, 0.8 and 0.9 among normal 0.3s.
    const scores = Array.from({ length: 60 }, (_, i) =>
      i >= 10 && i < 13 ? 0.7 : i >= 30 && i < 33 ? 0.8 : i >= 50 && i < 53 ? 0.9 : 0.3,
    );
    expect(thresholdForAlertBudget(scores, rule, 3)).toBe(0.3);
    expect(thresholdForAlertBudget(scores, rule, 2)).toBe(0.7);
    expect(thresholdForAlertBudget(scores, rule, 1)).toBe(0.8);
    expect(thresholdForAlertBudget(scores, rule, 0)).toBe(0.9);
    expect(() => thresholdForAlertBudget(scores, { window: 2, minAnomalous: 3 }, 0)).toThrow('minAnomalous');
  });
});
