import { describeTimeIssues, type CsvReadOptions, type MetricsTable } from '../io/csv/index.js';
import { thresholdForAlertBudget, type AlertRule, type OutOfRange } from '../engine/index.js';
import { UsageError } from './context.js';

/** Flag parsing shared by the commands: each bad value is a UsageError naming the flag. */

export function requiredFlag(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export function integerFlag(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || v < min || v > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${value}'`);
  }
  return v;
}

/** `auto` or a share in (0, 0.5], as scikit-learn's contamination. */
export function contaminationFlag(value: string | undefined): number | 'auto' | undefined {
  if (value === undefined || value === 'auto') return value;
  const v = Number(value);
  if (!(v > 0 && v <= 0.5))
    throw new UsageError(`--contamination must be 'auto' or a number in (0, 0.5], got '${value}'`);
  return v;
}

/** `auto` (min(256, rows)), a row count, or a share of the rows in (0, 1). */
export function maxSamplesFlag(value: string | undefined): number | 'auto' | undefined {
  if (value === undefined || value === 'auto') return value;
  const v = Number(value);
  if (v > 0 && v < 1) return v;
  if (Number.isInteger(v) && v >= 2) return v;
  throw new UsageError(`--max-samples must be 'auto', an integer ≥ 2 or a share in (0, 1), got '${value}'`);
}

/** How the forest scores values beyond its training ranges (ForestOptions.outOfRange). */
export function outOfRangeFlag(value: string | undefined): OutOfRange | undefined {
  if (value === undefined || value === 'clamp' || value === 'isolate') return value;
  throw new UsageError(`--out-of-range must be 'clamp' or 'isolate', got '${value}'`);
}

/** A finite number above 0 (a rate such as alerts per day). */
export function positiveNumberFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!(v > 0 && Number.isFinite(v)) || value.trim() === '')
    throw new UsageError(`--${name} must be a number above 0, got '${value.slice(0, 40)}'`);
  return v;
}

export function thresholdFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!(v > 0 && v <= 1)) throw new UsageError(`--threshold must be a score in (0, 1], got '${value}'`);
  return v;
}

/** The parseArgs options of the column flags every command that reads metrics takes. */
export const COLUMN_OPTIONS = {
  'label-column': { type: 'string' },
  'ignore-column': { type: 'string', multiple: true },
  'time-column': { type: 'string' },
} as const;

/** With --entity-column too (the commands that keep one model or stream per entity). */
export const ENTITY_COLUMN_OPTIONS = {
  ...COLUMN_OPTIONS,
  'entity-column': { type: 'string' },
} as const;

/**
 * Usage lines of the column flags, for each command's help; `entity`, when the command takes
 * --entity-column, says what it does there (wrapped lines, without the flag).
 */
export function columnUsage(entity?: string[]): string {
  const pad = ' '.repeat(26);
  return [
    '  --time-column NAME      the time column (default: timestamp, time or _time if present):',
    `${pad}ISO 8601 or epoch seconds/milliseconds; repeated or backward times`,
    `${pad}are kept in file order with a warning on stderr`,
    ...(entity
      ? entity.map((line, i) => (i === 0 ? `  --entity-column NAME    ${line}` : `${pad}${line}`))
      : []),
    '  --ignore-column NAME    a column that is not a feature (a tag such as host); repeatable',
  ].join('\n');
}

/**
 * The CSV reading options that the column flags give, shared by the commands that read metrics.
 * `labelOptional`: a file without the label column is read without labels. A column that is all
 * text or all times gets a hint naming the flags this command has.
 */
export function columnFlags(
  values: {
    'label-column'?: string | undefined;
    'ignore-column'?: string[] | undefined;
    'time-column'?: string | undefined;
    'entity-column'?: string | undefined;
  },
  labelOptional = false,
  entityFlag = false,
): Pick<
  CsvReadOptions,
  'labelColumn' | 'labelOptional' | 'ignoreColumns' | 'timeColumn' | 'entityColumn' | 'columnHint'
> {
  const label = values['label-column'];
  return {
    ...(label !== undefined ? { labelColumn: label, ...(labelOptional ? { labelOptional: true } : {}) } : {}),
    ...(values['ignore-column'] ? { ignoreColumns: values['ignore-column'] } : {}),
    ...(values['time-column'] !== undefined ? { timeColumn: values['time-column'] } : {}),
    ...(values['entity-column'] !== undefined ? { entityColumn: values['entity-column'] } : {}),
    columnHint: (column, kind) =>
      kind === 'time'
        ? values['time-column'] !== undefined
          ? `use --ignore-column ${column} (the time column is '${values['time-column']}')`
          : `use --time-column ${column} or --ignore-column ${column}`
        : entityFlag
          ? `use --entity-column ${column} or --ignore-column ${column}`
          : `use --ignore-column ${column}`,
  };
}

/** Writes a table's time problems to stderr as warnings, one line each (the first five, then a count). */
export function warnTimes(stderr: NodeJS.WritableStream, command: string, table: MetricsTable): void {
  for (const line of describeTimeIssues(table)) stderr.write(`isoscope ${command}: warning: ${line}\n`);
}

/**
 * The alert rule a detector in the service gets by default (`alerting.window` and
 * `alerting.minAnomalous` in the detector schema): an alert needs 3 anomalous points among the
 * last 5. The CLI's default threshold is chosen against this rule, so that `score`, `train` and
 * the service flag the same rows of the same data.
 */
export const DEFAULT_ALERT_RULE: AlertRule = { window: 5, minAnomalous: 3 };

/**
 * The default decision rule of `score`, `train` and the service (thresholdPolicy 'alert-budget'):
 * the lowest threshold at which the alert rule, made one point more sensitive, would raise no alert
 * on the scores of the rows the model was fitted on. Metrics are autocorrelated, so a quantile of
 * points (contamination) flags 1 % of every quiet series, in runs that page; this budgets pages
 * instead, with one point of margin for the data to come being a little wilder. With several
 * entities, each entity's scores are judged apart in their own order (the rule looks at one
 * entity's consecutive points) and the threshold is the highest of theirs.
 */
export function alertBudgetThreshold(
  scores: ArrayLike<number>,
  entityOf?: ArrayLike<number>,
  rule: AlertRule = DEFAULT_ALERT_RULE,
): number {
  const sensitive = { window: rule.window, minAnomalous: Math.max(1, rule.minAnomalous - 1) };
  if (!entityOf) return thresholdForAlertBudget(scores, sensitive, 0);
  const byEntity = new Map<number, number[]>();
  for (let i = 0; i < scores.length; i++) {
    const own = byEntity.get(entityOf[i]!);
    if (own) own.push(scores[i]!);
    else byEntity.set(entityOf[i]!, [scores[i]!]);
  }
  return Math.max(...[...byEntity.values()].map((own) => thresholdForAlertBudget(own, sensitive, 0)));
}

/** Each row's entity as a small integer, in order of first appearance (for series ids). */
export function entityIds(entities: readonly string[]): { ids: Int32Array; names: string[] } {
  const index = new Map<string, number>();
  const ids = Int32Array.from(entities, (e) => {
    let id = index.get(e);
    if (id === undefined) index.set(e, (id = index.size));
    return id;
  });
  return { ids, names: [...index.keys()] };
}
