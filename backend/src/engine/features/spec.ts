import { EngineError } from '../errors.js';

/**
 * What a model sees, derived from the raw fields. One spec drives training, scoring and the names
 * in explanations, and it is stored with the model, so a model always gets the features it was
 * trained on. Every derived feature is causal: the value at row t uses rows ≤ t only, so what is
 * scored live equals what was scored in a replay.
 */
export interface FeatureSpec {
  /** Input fields, in order (`cpu.usage_user`, `mem.used_percent`, …). */
  fields: string[];
  /** The fields themselves. Default true. */
  raw?: boolean;
  /** x(t) − x(t−1): sudden changes. */
  delta?: boolean;
  /** (x(t) − x(t−1)) per second: for counters (bytes, packets) whose level means nothing. */
  rate?: boolean;
  /**
   * Rolling z-score over the previous `rollingWindow` rows (not including t, so a spike does not
   * dilute its own baseline): (x(t) − mean) / std. 0 turns it off.
   */
  rollingWindow?: number;
  /** The last k values of each field as one vector (lags 1 … k−1 beside the raw value); 0 or 1 = off. */
  shingle?: number;
  /** Hour of day as a point on a circle (sin, cos): 23:59 is next to 00:00. */
  timeOfDay?: boolean;
  /** Day of week on a circle, likewise. */
  dayOfWeek?: boolean;
}

const MAX_WINDOW = 100_000;
const MAX_SHINGLE = 64;

/** Checks a spec and fills its defaults; each problem is an EngineError naming the option. */
export function normalizeSpec(spec: FeatureSpec): Required<FeatureSpec> {
  if (!Array.isArray(spec.fields) || spec.fields.length === 0) {
    throw new EngineError('BAD_OPTION', 'features: at least one field is needed', { option: 'fields' });
  }
  const seen = new Set<string>();
  for (const f of spec.fields) {
    if (typeof f !== 'string' || f === '')
      throw new EngineError('BAD_OPTION', 'features: field names must be non-empty strings', {
        option: 'fields',
      });
    if (seen.has(f))
      throw new EngineError('BAD_OPTION', `features: field '${f}' is listed twice`, { option: 'fields' });
    seen.add(f);
  }
  const window = spec.rollingWindow ?? 0;
  if (!Number.isInteger(window) || window < 0 || window === 1 || window > MAX_WINDOW) {
    throw new EngineError(
      'BAD_OPTION',
      `features: rollingWindow must be 0 (off) or an integer from 2 to ${MAX_WINDOW}, got ${window}`,
      { option: 'rollingWindow' },
    );
  }
  const shingle = spec.shingle ?? 0;
  if (!Number.isInteger(shingle) || shingle < 0 || shingle > MAX_SHINGLE) {
    throw new EngineError(
      'BAD_OPTION',
      `features: shingle must be an integer from 0 to ${MAX_SHINGLE}, got ${shingle}`,
      { option: 'shingle' },
    );
  }
  const out: Required<FeatureSpec> = {
    fields: [...spec.fields],
    raw: spec.raw ?? true,
    delta: spec.delta ?? false,
    rate: spec.rate ?? false,
    rollingWindow: window,
    shingle,
    timeOfDay: spec.timeOfDay ?? false,
    dayOfWeek: spec.dayOfWeek ?? false,
  };
  if (featureNames(out).length === 0) {
    throw new EngineError('BAD_OPTION', 'features: the spec turns every feature off', { option: 'raw' });
  }
  return out;
}

/**
 * The features a spec produces, in the order of the feature vector. `change` marks what measures a
 * movement (delta, rate) rather than a level (the value, its lags, its rolling z-score, the time):
 * the streaming detector grows separate forests for the two kinds.
 */
export function featureList(spec: Required<FeatureSpec>): Array<{ name: string; change: boolean }> {
  const list: Array<{ name: string; change: boolean }> = [];
  const level = (...names: string[]): void => {
    for (const name of names) list.push({ name, change: false });
  };
  for (const f of spec.fields) {
    if (spec.raw) level(f);
    for (let lag = 1; lag < spec.shingle; lag++) level(`${f}.lag${lag}`);
    if (spec.delta) list.push({ name: `${f}.delta`, change: true });
    if (spec.rate) list.push({ name: `${f}.rate`, change: true });
    if (spec.rollingWindow > 0) level(`${f}.z${spec.rollingWindow}`);
  }
  if (spec.timeOfDay) level('time.hour_sin', 'time.hour_cos');
  if (spec.dayOfWeek) level('time.weekday_sin', 'time.weekday_cos');
  return list;
}

/** Names of the features a spec produces, in the order of the feature vector. */
export function featureNames(spec: Required<FeatureSpec>): string[] {
  return featureList(spec).map((f) => f.name);
}

/** Rows needed before every feature is defined: the longest look-back of the spec. */
export function warmupRows(spec: Required<FeatureSpec>): number {
  return Math.max(
    spec.rollingWindow,
    spec.shingle > 1 ? spec.shingle - 1 : 0,
    spec.delta || spec.rate ? 1 : 0,
  );
}
