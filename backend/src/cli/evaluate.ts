import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  EPISODE_GAP,
  averagePrecision,
  bestF1,
  eventRecall,
  nabBestThreshold,
  nabScore,
  operatorMetrics,
  pointMetrics,
  precisionRecallCurve,
  rocAuc,
  seriesRows,
  type NabScore,
  type NabThresholdScore,
  type OperatorMetrics,
} from '../engine/index.js';
import { CsvError, readCsvHeader, readMetricsCsv, tokenizeCsv } from '../io/csv/index.js';
import type { CliCommand } from './context.js';
import { UsageError } from './context.js';
import { nabLine, operatorLines } from './format.js';
import { integerFlag, requiredFlag } from './options.js';
import { svgCurve, svgScoreHistogram, svgScoreTimeline } from './plot.js';

const usage = `Usage: isoscope evaluate --scores out.csv --labels labels.csv [options]

Compares scores (the output of isoscope score or replay) with ground truth: ROC-AUC, PR-AUC
(average precision) and the best F1 over thresholds rank the scores; when the scores file has
is_anomaly (the detector's own decisions), the operator's view of those decisions as well:
precision, recall and F1 of the flags and the confusion matrix; incidents found (a run of labelled
rows counts as found when any of its rows is flagged) and the delay to the first flag, in rows and
in time; alert episodes (flags fewer than 10 rows apart), how many overlap an incident (event
precision) and false episodes per series-day. The NAB-style windowed score (0 = flag nothing,
100 = perfect; Numenta Anomaly Benchmark's standard profile) is given at the detector's decisions
and at the best single threshold over the scores. Rows are matched by position; both files must
have as many rows.

Options:
  --scores FILE          CSV with a score column (and is_anomaly, threshold, if present)
  --labels FILE          CSV with the label column (it may be the scored input itself)
  --label-column NAME    the 0/1 column in the labels file (default label)
  --series-column NAME   a column (in the scores or labels file) naming each row's series, e.g.
                         host: incidents, episodes and NAB windows are then found per series
  --threshold X          the decision threshold to mark on the plots (default: the scores file's
                         threshold column, else the lowest flagged score when flags are score > X)
  --episode-gap N        flags fewer than N rows apart are one alert episode (default ${EPISODE_GAP})
  --probation X          leading share of each series the NAB-style score leaves out, capped at
                         750 rows (default 0.15 as NAB: a streaming detector's warm-up; 0 when the
                         model was trained on other data, as with score --train)
  --json                 print the report as JSON
  --plot FILE            draw the precision–recall curve (the decisions marked) and the score
                         histogram (the threshold marked) as an SVG
  --plot-time FILE       draw the scores over time as an SVG, incidents shaded, flags and the
                         threshold marked, one panel per series
`;

interface Report {
  rows: number;
  positives: number;
  rocAuc: number;
  prAuc: number;
  bestF1: { f1: number; threshold: number };
  flags?: ReturnType<typeof pointMetrics>;
  events?: { found: number; total: number; recall: number; falseAlarmRuns: number; medianDelayRows?: number };
  /** The detector's decisions as an operator meets them (with is_anomaly). */
  operator?: Omit<OperatorMetrics, 'outcomes'>;
  nab: { decisions?: NabScore; best: NabThresholdScore };
}

/** One text column of a CSV, by name, as written (trimmed); a missing column is a CsvError naming the columns there are. */
async function readTextColumn(file: string, name: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const values: string[] = [];
  let index = -1;
  let header: string[] | undefined;
  tokenizeCsv(text, (fields) => {
    if (header === undefined) {
      header = fields.map((f) => f.trim());
      index = header.indexOf(name);
      if (index < 0)
        throw new CsvError(file, `no series column '${name}' (columns: ${header.join(', ')})`, 1);
    } else values.push((fields[index] ?? '').trim());
  });
  return values;
}

/**
 * The threshold behind the flags when they are exactly "score > t" for one t (every flagged score
 * above every unflagged one): the lowest flagged score is then where the line goes. Undefined when
 * no single threshold explains the flags (per-series thresholds, persistence rules).
 */
function impliedThreshold(scores: Float64Array, flags: Uint8Array): number | undefined {
  let lowestFlagged = Infinity;
  let highestUnflagged = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    if (flags[i]) lowestFlagged = Math.min(lowestFlagged, scores[i]!);
    else highestUnflagged = Math.max(highestUnflagged, scores[i]!);
  }
  return Number.isFinite(lowestFlagged) && lowestFlagged > highestUnflagged ? lowestFlagged : undefined;
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

/** The PR curve (the decisions marked) and the score histogram (the threshold marked) side by side in one SVG. */
function plots(
  scores: Float64Array,
  labels: Uint8Array,
  report: Report,
  threshold: number | undefined,
): string {
  const f = report.flags;
  const curve = svgCurve(
    `PR-AUC ${report.prAuc.toFixed(3)} · ROC-AUC ${report.rocAuc.toFixed(3)} · best F1 ${report.bestF1.f1.toFixed(3)}`,
    'recall',
    'precision',
    precisionRecallCurve(scores, labels).map((p) => [p.recall, p.precision]),
    f
      ? {
          x: f.recall,
          y: f.precision,
          label: `is_anomaly (P ${f.precision.toFixed(2)}, R ${f.recall.toFixed(2)})`,
        }
      : undefined,
  );
  const histogram = svgScoreHistogram(
    'scores: normal (grey) and labelled anomalous (orange)',
    scores,
    labels,
    threshold,
  );
  const inner = (doc: string): string => doc.replace(/^<svg /, '<svg x="0" y="0" ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="840" height="260" viewBox="0 0 840 260">\n<g>${inner(curve)}</g>\n<g transform="translate(420 0)">${inner(histogram)}</g>\n</svg>\n`;
}

const fixed = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

export const command: CliCommand = {
  usage,
  async run({ argv, stdout }) {
    const { values } = parseArgs({
      args: argv,
      options: {
        scores: { type: 'string' },
        labels: { type: 'string' },
        'label-column': { type: 'string' },
        'series-column': { type: 'string' },
        threshold: { type: 'string' },
        'episode-gap': { type: 'string' },
        probation: { type: 'string' },
        json: { type: 'boolean' },
        plot: { type: 'string' },
        'plot-time': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
    const scoresFile = requiredFlag(values, 'scores');
    const labelsFile = requiredFlag(values, 'labels');
    const labelColumn = values['label-column'] ?? 'label';
    const gap = integerFlag(values['episode-gap'], 'episode-gap', 1, 1_000_000) ?? EPISODE_GAP;
    const probation = values.probation === undefined ? 0.15 : Number(values.probation);
    if (values.probation?.trim() === '' || !(probation >= 0 && probation < 1)) {
      throw new UsageError(`--probation must be a share in [0, 1), got '${values.probation}'`);
    }
    const nabOptions = { probationFraction: probation };
    let threshold: number | undefined;
    if (values.threshold !== undefined) {
      threshold = Number(values.threshold);
      if (values.threshold.trim() === '' || !Number.isFinite(threshold)) {
        throw new UsageError(`--threshold must be a number, got '${values.threshold}'`);
      }
    }
    const header = await readCsvHeader(scoresFile);
    if (!header.includes('score')) {
      throw new CsvError(scoresFile, `no 'score' column (columns: ${header.join(', ')})`, 1);
    }
    const optional = ['is_anomaly', 'threshold'].filter((c) => header.includes(c));
    const scored = await readMetricsCsv(scoresFile, { allowMissing: true, columns: ['score', ...optional] });
    const seriesColumn = values['series-column'];
    // Only the label (and the time) is needed: the other columns may be text (a host name) or anything else.
    const labelled = await readMetricsCsv(labelsFile, {
      labelColumn,
      allowMissing: true,
      columns: [labelColumn],
    });
    if (labelled.matrix.rows !== scored.matrix.rows) {
      throw new UsageError(
        `${scoresFile} has ${scored.matrix.rows} rows, ${labelsFile} has ${labelled.matrix.rows}: rows are matched by position`,
      );
    }
    const { rows, cols, data } = scored.matrix;
    const scores = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const v = data[r * cols]!;
      if (!Number.isFinite(v)) throw new CsvError(scoresFile, 'empty score', scored.lines[r]!, 'score');
      scores[r] = v;
    }
    const labels = labelled.labels!;
    const series =
      seriesColumn === undefined
        ? undefined
        : await readTextColumn(header.includes(seriesColumn) ? scoresFile : labelsFile, seriesColumn);
    const times = labelled.timeMs ?? scored.timeMs;
    const flagIndex = scored.featureNames.indexOf('is_anomaly');
    const thresholdIndex = scored.featureNames.indexOf('threshold');
    const rowThresholds =
      thresholdIndex >= 0
        ? Float64Array.from({ length: rows }, (_, r) => data[r * cols + thresholdIndex]!)
        : undefined;
    const flags =
      flagIndex >= 0
        ? Uint8Array.from({ length: rows }, (_, r) => (data[r * cols + flagIndex] ? 1 : 0))
        : undefined;
    if (threshold === undefined && rowThresholds) {
      const finite = Array.from(rowThresholds)
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
      if (finite.length) threshold = finite[finite.length >> 1];
    }
    if (threshold === undefined && flags) threshold = impliedThreshold(scores, flags);

    const report: Report = {
      rows,
      positives: labels.reduce((s, v) => s + v, 0),
      rocAuc: rocAuc(scores, labels),
      prAuc: averagePrecision(scores, labels),
      bestF1: bestF1(scores, labels),
      nab: { best: nabBestThreshold({ scores, labels, ...(series ? { series } : {}) }, nabOptions) },
    };
    if (flags) {
      report.flags = pointMetrics(flags, labels);
      const events = eventRecall(flags, labels, times);
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
      const { outcomes: _outcomes, ...operator } = operatorMetrics(
        { decisions: flags, labels, ...(times ? { times } : {}), ...(series ? { series } : {}) },
        { episodeGap: gap },
      );
      report.operator = operator;
      report.nab.decisions = nabScore(
        { decisions: flags, labels, ...(series ? { series } : {}) },
        nabOptions,
      );
    }
    if (values.plot) await writeFile(values.plot, plots(scores, labels, report, threshold));
    if (values['plot-time']) {
      const groups = seriesRows(rows, series);
      const names = series ? groups.map((g) => `${seriesColumn} ${series[g[0]!]}`) : ['all rows'];
      const take = (a: ArrayLike<number> | undefined, g: number[]): Float64Array | undefined =>
        a ? Float64Array.from(g, (r) => a[r]!) : undefined;
      const panels = groups.map((g, k) => {
        const t = take(times, g);
        const l = take(labels, g);
        const fl = take(flags, g);
        const th = take(rowThresholds, g) ?? threshold;
        return {
          name: names[k]!,
          scores: take(scores, g)!,
          ...(t ? { times: t } : {}),
          ...(l ? { labels: l } : {}),
          ...(fl ? { flags: fl } : {}),
          ...(th !== undefined ? { threshold: th } : {}),
        };
      });
      await writeFile(values['plot-time'], svgScoreTimeline(`scores of ${scoresFile}`, panels));
    }
    if (values.json) {
      stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return 0;
    }
    const f = (v: number): string => fixed(v);
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
        '',
        "the detector's decisions (is_anomaly) as an operator meets them:",
        ...operatorLines(report.operator!, gap, times !== undefined).map((l) => `  ${l}`),
      );
    }
    out.push(nabLine(report.nab.decisions, report.nab.best));
    out.push('', 'score histogram (normal │ labelled anomalous):', ...histogram(scores, labels));
    if (values.plot) out.push('', `precision–recall curve and score histogram → ${values.plot}`);
    if (values['plot-time']) out.push(`scores over time → ${values['plot-time']}`);
    stdout.write(`${out.join('\n')}\n`);
    return 0;
  },
};
