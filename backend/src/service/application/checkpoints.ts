/**
 * A model version is a checkpoint of a streaming runtime: the detector's snapshot at the end of
 * the rows it was bootstrapped on, that range, and each field's distribution over it (what the
 * drill-down, drift checks, validation and Grafana's expected band compare against). Pure.
 */
import { quantileSorted } from '../../engine/index.js';
import type { EntitySeries } from '../../io/influx/index.js';
import type { ModelVersionRecord } from '../../io/registry/index.js';

/** One raw field over a checkpoint's training range: 101 quantiles and an evenly spaced sample. */
export interface FieldReference {
  feature: string;
  quantiles: number[];
  sample: number[];
}

/** What a version's `bundle` holds (JSON). */
export interface Checkpoint {
  kind: 'stream';
  format: 1;
  /** The rows the checkpoint has seen are those before `to`; it was bootstrapped from `from`. */
  from: number;
  to: number;
  reference: FieldReference[];
  /** The StreamingDetector's snapshot (JSON text), passed to the runtime as is. */
  snapshot: string;
}

const SAMPLE = 2000;

/** Each field's quantiles and sample over a series (missing values left out). */
export function fieldReference(series: EntitySeries, fields: string[]): FieldReference[] {
  return fields.map((feature, c) => {
    const values = Array.from(series.values[c] ?? []).filter((v) => !Number.isNaN(v));
    const sorted = Float64Array.from(values).sort();
    const step = Math.max(1, values.length / SAMPLE);
    const sample: number[] = [];
    for (let i = 0; i < values.length && sample.length < SAMPLE; i = Math.floor((sample.length + 1) * step))
      sample.push(values[i]!);
    return {
      feature,
      quantiles: Array.from({ length: 101 }, (_, q) => (sorted.length ? quantileSorted(sorted, q / 100) : 0)),
      sample,
    };
  });
}

/** A version's checkpoint, or an error naming the version when its bundle is not one. */
export function readCheckpoint(v: ModelVersionRecord): Checkpoint {
  const parsed = v.bundle ? (JSON.parse(v.bundle) as Partial<Checkpoint>) : undefined;
  if (parsed?.kind !== 'stream' || typeof parsed.snapshot !== 'string')
    throw new Error(
      `detector '${v.detectorId}' version ${v.version} is not a streaming checkpoint (a batch model from before the streaming runtime): train the detector again`,
    );
  return parsed as Checkpoint;
}

/** Where a value sits in a reference: the share of its quantiles at or below it, 0 … 1. */
export function percentileOf(ref: FieldReference, value: number): number {
  const below = ref.quantiles.findIndex((q) => q >= value);
  return below < 0 ? 1 : below / 100;
}
