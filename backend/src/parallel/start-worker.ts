import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A worker from the compiled sibling `name.js`; from the TypeScript sources (jest, tsx), where
 * there is none, the `.ts` file through tsx's loader, so tests run the same code they read.
 */
export function startWorker(name: string, workerData: unknown): Worker {
  const compiled = new URL(`./${name}.js`, import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData });
  const source = JSON.stringify(new URL(`./${name}.ts`, import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${source}); });`, {
    eval: true,
    workerData,
  });
}
