import type { Detector, Explanation, Incident, Job, ModelVersion } from '../api/types';
import { DEFAULT_SPEC } from '../pages/DetectorEditor/form';

export const detector: Detector = {
  id: 'cpu',
  name: 'cpu',
  spec: { ...DEFAULT_SPEC, source: { preset: 'cpu', entityTag: 'host' } },
  createdAt: '2026-03-01T00:00:00.000Z',
  updatedAt: '2026-03-01T00:00:00.000Z',
};

export function version(v: number, stage: ModelVersion['stage'], entity = 'web-1'): ModelVersion {
  return {
    detectorId: 'cpu',
    version: v,
    entity,
    entityVersion: v,
    stage,
    trainedAt: '2026-03-01T00:00:00.000Z',
    metrics: { rows: 1500, flaggedShare: 0.004 + v / 1000, rocAuc: 0.9 + v / 100 },
    params: { threshold: 0.61, thresholdBy: 'alert-budget', rows: 10080, criterion: 'mass-volume' },
  };
}

export function job(state: Job['state'], progress: number): Job {
  return {
    id: 'j1',
    detectorId: 'cpu',
    kind: 'training',
    state,
    phase: state === 'running' ? 'training web-2' : 'stored',
    progress,
    createdAt: '2026-03-01T00:00:00.000Z',
    ...(state === 'succeeded'
      ? {
          result: {
            entities: [{ entity: 'web-1', version: 3, rows: 10080, criterion: 'mass-volume', stage: 'candidate' }],
            skipped: [],
          },
        }
      : {}),
  };
}

export const explanation: Explanation = {
  detector: 'cpu',
  entity: 'web-1',
  time: '2026-03-01T12:00:00.000Z',
  modelVersion: 2,
  score: 0.83,
  threshold: 0.61,
  anomaly: true,
  topFeature: 'usage_user',
  reproduced: true,
  replay: { from: '2026-03-01T00:00:00.000Z', rows: 719, score: 0.83, topFeature: 'usage_user' },
  forest: {
    group: 'levels',
    retrain: 3,
    trees: 100,
    groupScores: [0.83, 0.31],
    explainedTime: '2026-03-01T12:00:00.000Z',
  },
  baseline: 11.2,
  pathLength: 4.1,
  contributions: [
    {
      feature: 'usage_user',
      field: 'usage_user',
      contribution: 4.2,
      share: 0.7,
      value: 97,
      percentile: 0.999,
      trainingP5: 3,
      trainingMedian: 12,
      trainingP95: 35,
      learntLow: 1.5,
      learntHigh: 41,
    },
    {
      feature: 'usage_system',
      field: 'usage_system',
      contribution: 1.5,
      share: 0.25,
      value: 9,
      percentile: 0.8,
      trainingP5: 1,
      trainingMedian: 4,
      trainingP95: 11,
      learntLow: 0.5,
      learntHigh: 12,
    },
    {
      feature: 'usage_iowait',
      field: 'usage_iowait',
      contribution: -0.3,
      share: 0.05,
      value: 0.1,
      percentile: 0.3,
      trainingP5: 0,
      trainingMedian: 0.2,
      trainingP95: 1,
    },
  ],
  series: {
    fields: ['usage_user', 'usage_system', 'usage_iowait'],
    time: [Date.parse('2026-03-01T11:58:00Z'), Date.parse('2026-03-01T11:59:00Z'), Date.parse('2026-03-01T12:00:00Z')],
    values: [
      [12, 14, 97],
      [4, 4, 9],
      [0.2, null, 0.1],
    ],
  },
};

export function incident(id: string, over: Partial<Incident> = {}): Incident {
  return {
    id,
    detector: 'cpu',
    entity: 'web-1',
    state: 'resolved',
    start: '2026-03-01T10:00:00.000Z',
    end: '2026-03-01T10:48:00.000Z',
    peak: '2026-03-01T10:20:00.000Z',
    peakScore: 0.748,
    severity: 'high',
    flagged: 40,
    rows: 49,
    topMetrics: [
      { metric: 'usage_user', count: 30 },
      { metric: 'usage_idle.z60', count: 10 },
    ],
    suppressed: false,
    ...over,
  };
}
