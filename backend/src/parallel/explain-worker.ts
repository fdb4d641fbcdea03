/**
 * The explain worker (explain-run.ts's explainWorker): answers each request with one replayExplain,
 * in the order they come; kept between explanations, so the engine stays loaded and compiled.
 */
import { serveRequests } from './kept-worker.js';
import { replayExplain, type ExplainTask } from './explain-run.js';

serveRequests(({ task }: { id: number; task: ExplainTask }) => replayExplain(task));
