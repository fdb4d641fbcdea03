import type { IsoscopeClient } from './client';

/**
 * One call of every client method, for the contract tests (here and in test/deploy): the URLs the
 * plugin builds must match a proxy route in plugin.json and a route of the service.
 */
export const EVERY_CALL: Record<string, (c: IsoscopeClient) => Promise<unknown>> = {
  health: (c) => c.health(),
  query: (c) =>
    c.query({ from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' }, [
      { refId: 'A', detector: 'cpu', entity: '', return: 'score' },
    ]),
  variables: (c) => c.variables('entities', 'cpu'),
  annotations: (c) => c.annotations({ from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' }, 'cpu'),
  detectors: (c) => c.detectors(),
  detector: (c) => c.detector('cpu'),
  createDetector: (c) => c.createDetector({ name: 'cpu', spec: { source: { preset: 'cpu' } } as never }),
  updateDetector: (c) => c.updateDetector('cpu', { name: 'cpu' }),
  deleteDetector: (c) => c.deleteDetector('cpu'),
  preview: (c) => Promise.all([c.preview({ id: 'cpu' }), c.preview({ spec: { source: { preset: 'cpu' } } as never })]),
  detectorHealth: (c) => c.detectorHealth('cpu'),
  presets: (c) => c.presets(),
  train: (c) => c.train('cpu'),
  backfill: (c) => c.backfill('cpu', { from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' }),
  jobs: (c) => c.jobs('cpu'),
  job: (c) => c.job('j1'),
  cancelJob: (c) => c.cancelJob('j1'),
  models: (c) => c.models('cpu'),
  setStage: (c) => c.setStage('cpu', 1, 'production', 'why'),
  rollback: (c) => c.rollback('cpu', 'why', 'web-1'),
  history: (c) => c.history('cpu'),
  anomalies: (c) => c.anomalies('cpu', { from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' }),
  explain: (c) => c.explain('cpu', 'web-1', '2026-01-01T00:00:00Z'),
  incidents: (c) =>
    c.incidents({
      detector: 'cpu',
      entity: 'web-1',
      severity: 'high',
      state: 'firing',
      from: '2026-01-01T00:00:00Z',
      to: '2026-01-02T00:00:00Z',
    }),
  incident: (c) => c.incident('i1'),
  feedback: (c) => c.feedback('i1', 'real', 'why'),
  suppressions: (c) => c.suppressions(),
  createSuppression: (c) =>
    c.createSuppression({ detector: 'cpu', kind: 'daily', from: '02:00', to: '03:30', reason: 'backups' }),
  deleteSuppression: (c) => c.deleteSuppression('s1'),
  drift: (c) => c.drift('cpu'),
  runDrift: (c) => c.runDrift('cpu'),
};
