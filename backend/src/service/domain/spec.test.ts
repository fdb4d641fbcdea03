import { defaultStreamFeatures } from '../../engine/index.js';
import { checkSpec, detectorId, readSpec, severity, streamOptions } from './spec.js';

describe('readSpec', () => {
  it('fills the defaults of a stored spec written before they existed', () => {
    const spec = readSpec('cpu', { source: { preset: 'cpu' } });
    expect(spec).toMatchObject({
      intervalSeconds: 60,
      trainingWindowHours: 168,
      features: {},
      model: {},
      alerting: { window: 5, minAnomalous: 3, cooldownMinutes: 30, minSeverity: 'low' },
      schedule: { scoreEverySeconds: 60, retrainOnDrift: true, promotion: 'auto-if-better' },
    });
  });

  it('refuses a damaged spec naming the detector and the field', () => {
    expect(() => readSpec('cpu', { source: { preset: 'cpu' }, intervalSeconds: 'often' })).toThrow(
      "detector 'cpu': its stored spec is invalid: /intervalSeconds must be integer",
    );
    expect(() => readSpec('cpu', null)).toThrow(/^detector 'cpu': its stored spec is invalid: /);
  });

  it('does not change the stored object it reads', () => {
    const stored = { source: { preset: 'cpu' } };
    readSpec('cpu', stored);
    expect(stored).toEqual({ source: { preset: 'cpu' } });
  });
});

describe('checkSpec', () => {
  const spec = readSpec('cpu', { source: { preset: 'cpu' } });
  it('refuses receivers the service lacks, and a fixed threshold beside a policy', () => {
    expect(() =>
      checkSpec({ ...spec, alerting: { ...spec.alerting, receivers: ['webhook'] } }, ['alertmanager']),
    ).toThrow(
      'spec.alerting.receivers: webhook is not configured on this service (configured: alertmanager)',
    );
    expect(() =>
      checkSpec({ ...spec, model: { threshold: 0.6, thresholdPolicy: 'contamination' } }, []),
    ).toThrow('give a fixed threshold or a policy, not both');
    expect(() => checkSpec(spec, [])).not.toThrow();
  });
});

describe('streamOptions', () => {
  it("is replay's defaults for a spec that sets nothing, so the service scores as replay does", () => {
    const spec = readSpec('cpu', { source: { preset: 'cpu' } });
    expect(streamOptions(spec, ['a', 'b'])).toEqual({ features: defaultStreamFeatures(['a', 'b']) });
    expect(streamOptions(spec, ['a'])).toEqual({ features: defaultStreamFeatures(['a']) });
  });

  it('puts what the spec sets on top of them', () => {
    const spec = readSpec('cpu', {
      source: { preset: 'cpu' },
      features: { shingle: 4, rollingWindow: 60, timeOfDay: true, delta: false },
      model: {
        trees: 50,
        maxSamples: 128,
        contamination: 0.02,
        alertsPerDay: 2,
        seed: 3,
        outOfRange: 'clamp',
        shared: true,
      },
      schedule: { retrainOnDrift: false },
    });
    expect(streamOptions(spec, ['a'])).toEqual({
      features: { fields: ['a'], shingle: 4, delta: false, rollingWindow: 60, timeOfDay: true },
      trees: 50,
      maxSamples: 128,
      contamination: 0.02,
      alertsPerDay: 2,
      seed: 3,
      outOfRange: 'clamp',
      driftCheckEvery: 0,
    });
  });
});

describe('severity and ids', () => {
  it('names how far over its threshold a score is', () => {
    expect([0.5, 0.51, 0.54, 0.57, 0.65].map((s) => severity(s, 0.5))).toEqual([
      'none',
      'low',
      'medium',
      'high',
      'critical',
    ]);
  });
  it('makes an id from a name', () => {
    expect(detectorId('  Web CPU (prod) ')).toBe('web-cpu-prod');
  });
});
