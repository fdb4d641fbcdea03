import { toScoredRow } from './runtime.js';

const label = { entity: 'web-1', stage: 'production' as const, version: 3 };

describe('toScoredRow', () => {
  it("keeps the stream's decision, its threshold and top feature, and names the severity", () => {
    const row = toScoredRow(
      {
        score: 0.72,
        threshold: 0.5,
        forestScore: 0.5,
        isAnomaly: true,
        severity: 'high',
        topFeature: 'usage_user',
        modelVersion: 5,
      },
      1000,
      label,
    );
    expect(row).toEqual({
      entity: 'web-1',
      timeMs: 1000,
      score: 0.72,
      threshold: 0.5,
      anomaly: true,
      severity: 'high',
      topFeature: 'usage_user',
      top: [{ feature: 'usage_user', share: 1 }],
      modelVersion: 3,
      retrain: 5,
      stage: 'production',
      extra: { forestScore: 0.5 },
    });
  });

  it('passes through fields the detector adds, and takes its severity when it gives one', () => {
    const result = {
      score: 0.62,
      threshold: 0.6,
      forestScore: 0.8,
      isAnomaly: true,
      modelVersion: 2,
      severity: 'high' as const,
      margin: 0.02,
      group: 'changes',
      nested: { a: 1 },
      infinite: Number.POSITIVE_INFINITY,
    };
    const row = toScoredRow(result, 0, label);
    expect(row.severity).toBe('high');
    expect(row.extra).toEqual({ forestScore: 0.8, margin: 0.02, group: 'changes' });
  });

  it('judges against a fixed threshold once the stream has a model, never while it warms up', () => {
    const fixed = { ...label, fixedThreshold: 0.5 };
    const warming = toScoredRow(
      {
        score: 0,
        threshold: 0,
        forestScore: 0.5,
        isAnomaly: false,
        severity: 'none' as const,
        modelVersion: 0,
      },
      0,
      fixed,
    );
    expect(warming).toMatchObject({ anomaly: false, threshold: 0, severity: 'none' });
    const over = toScoredRow(
      {
        score: 0.55,
        threshold: 0.7,
        forestScore: 0.5,
        isAnomaly: false,
        severity: 'none' as const,
        modelVersion: 1,
      },
      0,
      fixed,
    );
    expect(over).toMatchObject({ anomaly: true, threshold: 0.5, severity: 'medium' });
    const under = toScoredRow(
      {
        score: 0.45,
        threshold: 0.4,
        forestScore: 0.5,
        isAnomaly: true,
        severity: 'low' as const,
        topFeature: 'x',
        modelVersion: 1,
      },
      0,
      fixed,
    );
    expect(under).toMatchObject({ anomaly: false, threshold: 0.5, severity: 'none' });
    expect(under.topFeature).toBeUndefined();
  });
});
