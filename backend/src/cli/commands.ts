import type { CliCommand } from './context.js';

interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<CliCommand>;
}

/** Every `isoscope` command, one module each, in the order `--help` lists them. */
export const commands: CommandEntry[] = [
  {
    name: 'score',
    summary: 'fit a forest on a training CSV and score another CSV (batch)',
    load: async () => (await import('./score.js')).command,
  },
  {
    name: 'replay',
    summary: 'run a CSV through the streaming detector as live data would flow',
    load: async () => (await import('./replay.js')).command,
  },
  {
    name: 'evaluate',
    summary: 'compare scores with labels: precision, recall, F1, ROC-AUC, PR-AUC, incidents',
    load: async () => (await import('./evaluate.js')).command,
  },
  {
    name: 'validate',
    summary: 'check a window of data: schema, ranges, missing, duplicates, outliers, statistics',
    load: async () => (await import('./validate.js')).command,
  },
  {
    name: 'train',
    summary: 'train a tuned model bundle from a CSV (time-ordered split, grid search, test metrics)',
    load: async () => (await import('./train.js')).command,
  },
  {
    name: 'serve',
    summary: 'start the HTTP service (API, OpenAPI at /docs, health, metrics)',
    load: async () => (await import('./serve.js')).command,
  },
  {
    name: 'token',
    summary: 'create, list and revoke API tokens of the service',
    load: async () => (await import('./token.js')).command,
  },
];
