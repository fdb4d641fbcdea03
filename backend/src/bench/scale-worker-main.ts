/** The entry of a scale-simulation worker process: `node scale-worker-main.js '<json settings>'`. */
import { runScaleWorker, type ScaleWorkerSettings } from './scale-worker.js';

await runScaleWorker(JSON.parse(process.argv[2] ?? '{}') as ScaleWorkerSettings);
