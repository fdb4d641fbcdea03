import { quantileSorted } from '../stats.js';

/**
 * Data validation: six checks on a window of rows, each a verdict with its numbers and a sentence
 * a person can act on. A report, not an exception: bad data is what this is for.
 */

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface ColumnFinding {
  column: string;
  status: CheckStatus;
  value: number;
  note?: string;
}

export interface CheckResult {
  check: 'schema' | 'ranges' | 'missing' | 'duplicates' | 'outliers' | 'statistics';
  status: CheckStatus;
  /** One sentence: what was found and what to do. */
  message: string;
  findings: ColumnFinding[];
}

export interface ValidationReport {
  status: CheckStatus;
  rows: number;
  checks: CheckResult[];
}

/** A window of data by column: values (NaN = missing), and cells that were not numbers. */
export interface ValidationInput {
  columns: string[];
  values: Float64Array[];
  /** Per column, cells that held text where a number was expected. */
  nonNumeric?: number[];
  /** Epoch ms per row, when the data has a time column. */
  timeMs?: Float64Array;
}

export interface ValidationOptions {
  /** Columns that must be there (default: the reference's, if any). */
  expectedColumns?: string[];
  /** Bounds per column; default: the reference's range widened by 10 % on each side. */
  ranges?: Record<string, { min?: number; max?: number }>;
  /** Missing share per column: warn above, fail above. */
  missingWarn?: number;
  missingFail?: number;
  /** Outlier share per column (robust z > 5 or outside Q1 − 3·IQR … Q3 + 3·IQR): warn above, fail above. */
  outlierWarn?: number;
  outlierFail?: number;
  /** |mean − reference mean| in reference standard deviations: warn above, fail above. */
  meanShiftWarn?: number;
  meanShiftFail?: number;
}

export const VALIDATION_DEFAULTS: Required<Omit<ValidationOptions, 'expectedColumns' | 'ranges'>> = {
  missingWarn: 0.01,
  missingFail: 0.1,
  outlierWarn: 0.01,
  outlierFail: 0.05,
  meanShiftWarn: 0.5,
  meanShiftFail: 1,
};

const worst = (statuses: CheckStatus[]): CheckStatus =>
  statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'pass';

/** The worst few findings as "a (x), b (y) and 3 more": a sentence stays readable with 38 columns. */
function listWorst(findings: ColumnFinding[], describe: (f: ColumnFinding) => string, limit = 5): string {
  const sorted = [...findings].sort((a, b) => b.value - a.value);
  const shown = sorted.slice(0, limit).map(describe).join(', ');
  return sorted.length > limit ? `${shown} and ${sorted.length - limit} more` : shown;
}

const pct = (v: number): string => `${(100 * v).toFixed(v < 0.01 ? 2 : 1)}%`;

function finite(values: Float64Array): Float64Array {
  return values.filter((v) => Number.isFinite(v)).sort();
}

function mean(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x;
  return s / v.length;
}

function std(v: Float64Array): number {
  const m = mean(v);
  let s = 0;
  for (const x of v) s += (x - m) ** 2;
  return Math.sqrt(s / Math.max(1, v.length - 1));
}

function checkSchema(input: ValidationInput, expected: string[] | undefined): CheckResult {
  const findings: ColumnFinding[] = [];
  for (const column of expected ?? []) {
    if (!input.columns.includes(column)) findings.push({ column, status: 'fail', value: 0, note: 'missing' });
  }
  input.columns.forEach((column, i) => {
    const bad = input.nonNumeric?.[i] ?? 0;
    if (bad > 0) findings.push({ column, status: 'fail', value: bad, note: `${bad} cells are not numbers` });
    else if (expected && !expected.includes(column))
      findings.push({ column, status: 'warn', value: 0, note: 'not in the reference' });
  });
  const status = worst(findings.map((f) => f.status));
  const missing = findings.filter((f) => f.note === 'missing').map((f) => f.column);
  const text = findings.filter((f) => f.note?.includes('not numbers')).map((f) => f.column);
  const extra = findings.filter((f) => f.note === 'not in the reference').map((f) => f.column);
  const parts = [
    missing.length ? `columns ${missing.join(', ')} are missing: the model needs them` : '',
    text.length ? `columns ${text.join(', ')} hold text where numbers belong: check the export` : '',
    extra.length
      ? `columns ${extra.join(', ')} are new: they will be ignored by a model trained without them`
      : '',
  ].filter(Boolean);
  return {
    check: 'schema',
    status,
    message: parts.length
      ? `${parts.join('; ')}.`
      : `All ${input.columns.length} columns are present and numeric.`,
    findings,
  };
}

function checkRanges(
  input: ValidationInput,
  options: ValidationOptions,
  reference?: ValidationInput,
): CheckResult {
  const findings: ColumnFinding[] = [];
  input.columns.forEach((column, i) => {
    let bounds = options.ranges?.[column];
    if (!bounds && reference) {
      const r = reference.columns.indexOf(column);
      if (r >= 0) {
        const ref = finite(reference.values[r]!);
        if (ref.length > 0) {
          const lo = ref[0]!;
          const hi = ref[ref.length - 1]!;
          const margin = 0.1 * (hi - lo);
          bounds = { min: lo - margin, max: hi + margin };
        }
      }
    }
    if (!bounds) return;
    const v = finite(input.values[i]!);
    let outside = 0;
    for (const x of v)
      if ((bounds.min !== undefined && x < bounds.min) || (bounds.max !== undefined && x > bounds.max))
        outside++;
    const share = v.length ? outside / v.length : 0;
    findings.push({
      column,
      status: share === 0 ? 'pass' : share < 0.01 ? 'warn' : 'fail',
      value: share,
      note: `bounds ${bounds.min ?? '−∞'} … ${bounds.max ?? '∞'}`,
    });
  });
  const bad = findings.filter((f) => f.status !== 'pass');
  return {
    check: 'ranges',
    status: worst(findings.map((f) => f.status)),
    message:
      findings.length === 0
        ? 'No bounds to check against: give a reference or ranges.'
        : bad.length
          ? `Values outside the expected range in ${listWorst(bad, (f) => `${f.column} (${pct(f.value)})`)}: a unit change, a new workload, or a broken collector.`
          : `Every value of ${findings.length} columns is within range.`,
    findings,
  };
}

function checkMissing(input: ValidationInput, o: Required<typeof VALIDATION_DEFAULTS>): CheckResult {
  const rows = input.values[0]?.length ?? 0;
  const findings = input.columns.map((column, i): ColumnFinding => {
    let missing = 0;
    for (const x of input.values[i]!) if (!Number.isFinite(x)) missing++;
    const share = rows ? missing / rows : 1;
    return {
      column,
      status: share > o.missingFail ? 'fail' : share > o.missingWarn ? 'warn' : 'pass',
      value: share,
    };
  });
  const bad = findings.filter((f) => f.status !== 'pass');
  return {
    check: 'missing',
    status: worst(findings.map((f) => f.status)),
    message: bad.length
      ? `Missing values in ${listWorst(bad, (f) => `${f.column} (${pct(f.value)})`)}: gaps are filled with the last value, which hides what happened in them; check the collector.`
      : 'No column misses more than ' + pct(o.missingWarn) + ' of its values.',
    findings,
  };
}

function checkDuplicates(input: ValidationInput): CheckResult {
  const rows = input.values[0]?.length ?? 0;
  const findings: ColumnFinding[] = [];
  if (input.timeMs) {
    const seen = new Set<number>();
    let dup = 0;
    for (const t of input.timeMs) {
      if (seen.has(t)) dup++;
      seen.add(t);
    }
    findings.push({
      column: 'timestamp',
      status: dup > 0 ? 'fail' : 'pass',
      value: dup,
      note: 'rows sharing a timestamp',
    });
  }
  const seenRows = new Set<string>();
  let dupRows = 0;
  for (let r = 0; r < rows; r++) {
    const key = input.values.map((v) => v[r]).join(',');
    if (seenRows.has(key)) dupRows++;
    seenRows.add(key);
  }
  // Identical rows at different times happen (an idle host); only a large share is suspicious.
  findings.push({
    column: '(row)',
    status: dupRows > 0.05 * rows ? 'warn' : 'pass',
    value: dupRows,
    note: 'rows identical to an earlier row',
  });
  const dupTimes = findings.find((f) => f.column === 'timestamp')?.value ?? 0;
  return {
    check: 'duplicates',
    status: worst(findings.map((f) => f.status)),
    message:
      dupTimes > 0
        ? `${dupTimes} rows repeat an earlier timestamp: deduplicate or aggregate before training (two writers, or a retry that wrote twice).`
        : dupRows > 0.05 * rows
          ? `${dupRows} rows repeat an earlier row exactly: a stuck collector reports the same values again.`
          : `No duplicate timestamps; ${dupRows} repeated rows.`,
    findings,
  };
}

function checkOutliers(input: ValidationInput, o: Required<typeof VALIDATION_DEFAULTS>): CheckResult {
  const findings = input.columns.map((column, i): ColumnFinding => {
    const v = finite(input.values[i]!);
    if (v.length < 4) return { column, status: 'pass', value: 0 };
    const median = quantileSorted(v, 0.5);
    const q1 = quantileSorted(v, 0.25);
    const q3 = quantileSorted(v, 0.75);
    const iqr = q3 - q1;
    const deviations = v.map((x) => Math.abs(x - median)).sort();
    const mad = 1.4826 * quantileSorted(deviations, 0.5);
    let outliers = 0;
    for (const x of v) {
      const robustZ = mad > 0 ? Math.abs(x - median) / mad : 0;
      const outsideIqr = iqr > 0 && (x < q1 - 3 * iqr || x > q3 + 3 * iqr);
      if (robustZ > 5 || outsideIqr) outliers++;
    }
    const share = outliers / v.length;
    return {
      column,
      status: share > o.outlierFail ? 'fail' : share > o.outlierWarn ? 'warn' : 'pass',
      value: share,
    };
  });
  const bad = findings.filter((f) => f.status !== 'pass');
  return {
    check: 'outliers',
    status: worst(findings.map((f) => f.status)),
    message: bad.length
      ? `Many extreme values in ${listWorst(bad, (f) => `${f.column} (${pct(f.value)})`)}: if this window trains a model, set contamination at least that high or pick a calmer window.`
      : `Extreme values (robust z > 5 or beyond 3 IQR) stay under ${pct(o.outlierWarn)} in every column.`,
    findings,
  };
}

function checkStatistics(
  input: ValidationInput,
  o: Required<typeof VALIDATION_DEFAULTS>,
  reference?: ValidationInput,
): CheckResult {
  const findings: ColumnFinding[] = [];
  input.columns.forEach((column, i) => {
    const v = finite(input.values[i]!);
    if (v.length === 0) return;
    if (v[0] === v[v.length - 1]) {
      findings.push({ column, status: 'warn', value: 0, note: `constant at ${v[0]}` });
      return;
    }
    const r = reference ? reference.columns.indexOf(column) : -1;
    if (!reference || r < 0) return;
    const ref = finite(reference.values[r]!);
    if (ref.length < 2) return;
    const refStd = std(ref);
    const shift = refStd > 0 ? Math.abs(mean(v) - mean(ref)) / refStd : Number.POSITIVE_INFINITY;
    const ratio = refStd > 0 ? std(v) / refStd : Number.POSITIVE_INFINITY;
    const spreadOff = ratio > 2 || ratio < 0.5;
    const status: CheckStatus =
      shift > o.meanShiftFail ? 'fail' : shift > o.meanShiftWarn || spreadOff ? 'warn' : 'pass';
    findings.push({
      column,
      status,
      value: shift,
      note: `mean ${mean(v).toPrecision(4)} vs ${mean(ref).toPrecision(4)}, std ×${ratio.toFixed(2)}, median ${quantileSorted(v, 0.5).toPrecision(4)} vs ${quantileSorted(ref, 0.5).toPrecision(4)}`,
    });
  });
  const bad = findings.filter((f) => f.status !== 'pass');
  return {
    check: 'statistics',
    status: worst(findings.map((f) => f.status)),
    message: bad.length
      ? `${listWorst(bad, (f) => `${f.column}: ${f.note}`)}. Constant columns carry no signal; shifted ones mean the reference no longer describes this data (retrain, or check the source).`
      : reference
        ? 'Means, spreads and medians agree with the reference.'
        : 'No constant columns (give a reference to compare means and spreads).',
    findings,
  };
}

/** Runs the six checks on `input`, against `reference` (training data) when given. */
export function validateData(
  input: ValidationInput,
  reference?: ValidationInput,
  options: ValidationOptions = {},
): ValidationReport {
  const o = { ...VALIDATION_DEFAULTS, ...options };
  const expected = options.expectedColumns ?? reference?.columns;
  const checks = [
    checkSchema(input, expected),
    checkRanges(input, options, reference),
    checkMissing(input, o),
    checkDuplicates(input),
    checkOutliers(input, o),
    checkStatistics(input, o, reference),
  ];
  return { status: worst(checks.map((c) => c.status)), rows: input.values[0]?.length ?? 0, checks };
}
