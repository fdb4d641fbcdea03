import type { CsvReadOptions } from '../io/csv/index.js';
import type { OutOfRange } from '../engine/index.js';
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

export function thresholdFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!(v > 0 && v <= 1)) throw new UsageError(`--threshold must be a score in (0, 1], got '${value}'`);
  return v;
}

/**
 * The CSV reading options that --label-column and --ignore-column give, shared by the commands
 * that read metrics. `labelOptional`: a file without the label column is read without labels.
 */
export function columnFlags(
  values: { 'label-column'?: string | undefined; 'ignore-column'?: string[] | undefined },
  labelOptional = false,
): Pick<CsvReadOptions, 'labelColumn' | 'labelOptional' | 'ignoreColumns'> {
  const label = values['label-column'];
  return {
    ...(label !== undefined ? { labelColumn: label, ...(labelOptional ? { labelOptional: true } : {}) } : {}),
    ...(values['ignore-column'] ? { ignoreColumns: values['ignore-column'] } : {}),
  };
}
