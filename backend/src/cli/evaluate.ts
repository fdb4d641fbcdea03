import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  averagePrecision,
  bestF1,
  eventRecall,
  pointMetrics,
  precisionRecallCurve,
  rocAuc,
} from '../engine/index.js';
import { CsvError, readCsvHeader, readMetricsCsv } from '../io/csv/index.js';
import type { CliCommand } from './context.js';
import { UsageError } from './context.js';
import { requiredFlag } from './options.js';
import { svgCurve, svgScoreHistogram } from './plot.js';

const usage = `Usage: isoscope evaluate --scores out.csv --labels labels.csv [options]

Compares scores (the output of isoscope score or replay) with ground truth: precision, recall and
F1 of the is_anomaly flags, ROC-AUC, PR-AUC (average precision), the best F1 over thresholds, the
confusion matrix, and incidents found (a run of labelled rows counts as found when any of its rows
is flagged) with the delay. Rows are matched by position; both files must have as many rows.

Options:
  --scores FILE         CSV with a score column (and is_anomaly, if present)
  --labels FILE         CSV with the label column (it may be the scored input itself)
  --label-column NAME   the 0/1 column in the labels file (default label)
  --json                print the report as JSON
  --plot FILE           also draw the precision–recall curve and the score histogram as an SVG
`;

interface Report {
  rows: number;
  positives: number;
  rocAuc: number;
  prAuc: number;
  bestF1: { f1: number; threshold: number };
  flags?: ReturnType<typeof pointMetrics>;
  events?: { found: number; total: number; recall: number; falseAlarmRuns: number; medianDelayRows?: number };
}

/** A histogram of scores as text bars, normal and labelled anomalous rows side by side. */
function histogram(scores: Float64Array, labels: Uint8Array, bins = 20): string[] {
  let min = Infinity;
  let max = -Infinity;
  for (const s of scores) {
    min = Math.min(min, s);
    max = Math.max(max, s);
  }
  const width = max > min ? (max - min) / bins : 1;
  const normal = new Array<number>(bins).fill(0);
  const anomalous = new Array<number>(bins).fill(0);
  scores.forEach((s, i) => {
    const b = Math.min(bins - 1, Math.floor((s - min) / width));
    if (labels[i]) anomalous[b]!++;
    else normal[b]!++;
  });
  const top = Math.max(...normal, ...anomalous, 1);
  const bar = (n: number, ch: string): string => ch.repeat(Math.ceil((28 * n) / top));
  return normal.map(
    (n, b) =>
      `  ${(min + b * width).toFixed(3)} ${bar(n, '█').padEnd(28)} ${String(n).padStart(7)} │ ${bar(anomalous[b]!, '▓').padEnd(28)} ${anomalous[b]}`,
  );
}

/** The PR curve and the score histogram side by side in one SVG. */
function plots(scores: Float64Array, labels: Uint8Array, report: Report): string {
  const curve = svgCurve(
    `PR-AUC ${report.prAuc.toFixed(3)} · ROC-AUC ${report.rocAuc.toFixed(3)} · best F1 ${report.bestF1.f1.toFixed(3)}`,
    'recall',
    'precision',
    precisionRecallCurve(scores, labels).map((p) => [p.recall, p.precision]),
  );
  const histogram = svgScoreHistogram(
    'scores: normal (grey) and labelled anomalous (orange)',
    scores,
    labels,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="840" height="260">\n<g>${curve}</g>\n<g transform="translate(420 0)">${histogram}</g>\n</svg>\n`;
}

export const command: CliCommand = {
  usage,
  async run({ argv, stdout }) {
    const { values } = parseArgs({
      args: argv,
      options: {
        scores: { type: 'string' },
        labels: { type: 'string' },
        'label-column': { type: 'string' },
        json: { type: 'boolean' },
        plot: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
    const scoresFile = requiredFlag(values, 'scores');
    const labelsFile = requiredFlag(values, 'labels');
    const labelColumn = values['label-column'] ?? 'label';
    const header = await readCsvHeader(scoresFile);
    if (!header.includes('score')) {
      throw new CsvError(scoresFile, `no 'score' column (columns: ${header.join(', ')})`, 1);
    }
    const scored = await readMetricsCsv(scoresFile, {
      allowMissing: true,
      columns: ['score', ...(header.includes('is_anomaly') ? ['is_anomaly'] : [])],
    });
    const scoreIndex = 0;
    const labelled = await readMetricsCsv(labelsFile, { labelColumn, allowMissing: true });
    if (labelled.matrix.rows !== scored.matrix.rows) {
      throw new UsageError(
        `${scoresFile} has ${scored.matrix.rows} rows, ${labelsFile} has ${labelled.matrix.rows}: rows are matched by position`,
      );
    }
    const { rows, cols, data } = scored.matrix;
    const scores = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const v = data[r * cols + scoreIndex]!;
      if (!Number.isFinite(v)) throw new CsvError(scoresFile, 'empty score', scored.lines[r]!, 'score');
      scores[r] = v;
    }
    const labels = labelled.labels!;
    const flagIndex = scored.featureNames.indexOf('is_anomaly');
    const report: Report = {
      rows,
      positives: labels.reduce((s, v) => s + v, 0),
      rocAuc: rocAuc(scores, labels),
      prAuc: averagePrecision(scores, labels),
      bestF1: bestF1(scores, labels),
    };
    if (flagIndex >= 0) {
      const flags = Uint8Array.from({ length: rows }, (_, r) => (data[r * cols + flagIndex] ? 1 : 0));
      report.flags = pointMetrics(flags, labels);
      const events = eventRecall(flags, labels, labelled.timeMs);
      const delays = events.events
        .filter((e) => e.found)
        .map((e) => e.delayRows!)
        .sort((a, b) => a - b);
      report.events = {
        found: events.found,
        total: events.events.length,
        recall: events.recall,
        falseAlarmRuns: events.falseAlarmRuns,
        ...(delays.length ? { medianDelayRows: delays[Math.floor(delays.length / 2)]! } : {}),
      };
    }
    if (values.plot) await writeFile(values.plot, plots(scores, labels, report));
    if (values.json) {
      stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return 0;
    }
    const f = (v: number): string => (Number.isNaN(v) ? 'n/a' : v.toFixed(4));
    const out = [
      `${rows} rows, ${report.positives} labelled anomalous (${((100 * report.positives) / rows).toFixed(2)}%)`,
      `ROC-AUC ${f(report.rocAuc)}   PR-AUC ${f(report.prAuc)}   best F1 ${f(report.bestF1.f1)} at score ≥ ${report.bestF1.threshold}`,
    ];
    if (report.flags) {
      const m = report.flags;
      out.push(
        `flags: precision ${f(m.precision)}   recall ${f(m.recall)}   F1 ${f(m.f1)}`,
        '                 labelled 1   labelled 0',
        `  flagged     ${String(m.truePositives).padStart(10)}   ${String(m.falsePositives).padStart(10)}`,
        `  not flagged ${String(m.falseNegatives).padStart(10)}   ${String(m.trueNegatives).padStart(10)}`,
      );
      const e = report.events!;
      out.push(
        `incidents found ${e.found}/${e.total}${e.medianDelayRows !== undefined ? `, median delay ${e.medianDelayRows} rows` : ''}; flagged runs outside any incident: ${e.falseAlarmRuns}`,
      );
    }
    out.push('', 'score histogram (normal │ labelled anomalous):', ...histogram(scores, labels));
    if (values.plot) out.push('', `precision–recall curve → ${values.plot}`);
    stdout.write(`${out.join('\n')}\n`);
    return 0;
  },
};
