import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabelledData } from './data.js';

/** Debian's Python, where `apt-get install python3-sklearn python3-pandas` puts scikit-learn. */
const PYTHONS = ['/usr/bin/python3', 'python3'];
const SCRIPT = fileURLToPath(new URL('../../../scripts/bench/sklearn_bench.py', import.meta.url));
const INSTALL_DEPS = fileURLToPath(new URL('../../../scripts/install-deps.sh', import.meta.url));

export interface SklearnFitScore {
  fit_s: number;
  score_s: number;
  single_us: number;
  model_bytes: number;
  roc_auc: number;
  sklearn: string;
}

/**
 * The Python that has scikit-learn and pandas, or undefined (the benchmark then says so). As root,
 * missing ones are installed from Debian's packages first (`scripts/install-deps.sh --bench`), as
 * the tests install influxd: a benchmark without its reference prints no ratios.
 */
export function findSklearnPython(): string | undefined {
  if (!existsSync(SCRIPT)) return undefined;
  const find = (): string | undefined =>
    PYTHONS.find((py) => spawnSync(py, ['-c', 'import sklearn, pandas'], { stdio: 'ignore' }).status === 0);
  const found = find();
  if (found !== undefined || process.getuid?.() !== 0 || !existsSync(INSTALL_DEPS)) return found;
  process.stderr.write(
    'bench: installing scikit-learn and pandas from Debian (python3-sklearn python3-pandas)\n',
  );
  spawnSync('bash', [INSTALL_DEPS, '--bench'], { stdio: ['ignore', 'inherit', 'inherit'] });
  return find();
}

function runScript(python: string, args: string[]): unknown {
  const r = spawnSync(python, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`scikit-learn benchmark failed: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

export async function sklearnFitScore(
  python: string,
  dir: string,
  data: LabelledData,
  repeats: number,
): Promise<SklearnFitScore> {
  const { rows, cols } = data.matrix;
  const x = join(dir, `x-${rows}-${cols}.f64`);
  const y = join(dir, `y-${rows}-${cols}.u8`);
  await writeFile(
    x,
    new Uint8Array(data.matrix.data.buffer, data.matrix.data.byteOffset, data.matrix.data.byteLength),
  );
  await writeFile(y, data.labels);
  return runScript(python, [
    'fit-score',
    x,
    y,
    String(rows),
    String(cols),
    String(repeats),
  ]) as SklearnFitScore;
}

export function sklearnEndToEnd(
  python: string,
  train: string,
  input: string,
  output: string,
): { seconds: number } {
  return runScript(python, ['e2e', train, input, output]) as { seconds: number };
}
