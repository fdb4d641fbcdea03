import { Random, type Matrix } from '../engine/index.js';

export interface LabelledData {
  matrix: Matrix;
  labels: Uint8Array;
}

/**
 * Benchmark data: normal rows from a few Gaussian clusters with correlated columns (as host
 * metrics are: load moves cpu, memory and network together), and `outlierShare` of rows drawn
 * uniformly from a box wider than the clusters. Seeded: every run measures the same data.
 */
export function generateBenchData(rows: number, cols: number, outlierShare = 0.01, seed = 1): LabelledData {
  const rng = new Random(seed);
  const clusters = 3;
  const centres = Array.from({ length: clusters }, () =>
    Array.from({ length: cols }, () => rng.uniform(-5, 5)),
  );
  const mixing = Array.from({ length: cols }, () => rng.uniform(0.3, 1));
  const data = new Float64Array(rows * cols);
  const labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    if (rng.next() < outlierShare) {
      labels[r] = 1;
      for (let c = 0; c < cols; c++) data[o + c] = rng.uniform(-10, 10);
      continue;
    }
    const centre = centres[rng.int(clusters)]!;
    const load = rng.normal();
    for (let c = 0; c < cols; c++) data[o + c] = centre[c]! + mixing[c]! * load + 0.5 * rng.normal();
  }
  return { matrix: { rows, cols, data }, labels };
}

/** The same data as CSV text, the way a metrics export looks (timestamp first, a minute apart). */
export function benchCsv({ matrix }: LabelledData): string {
  const { rows, cols, data } = matrix;
  const header = ['timestamp', ...Array.from({ length: cols }, (_, c) => `m${c}`)].join(',');
  const parts: string[] = [header];
  const start = Date.UTC(2024, 0, 1) / 1000;
  for (let r = 0; r < rows; r++) {
    let line = String(start + 60 * r);
    for (let c = 0; c < cols; c++) line += `,${data[r * cols + c]!.toFixed(4)}`;
    parts.push(line);
  }
  return `${parts.join('\n')}\n`;
}
