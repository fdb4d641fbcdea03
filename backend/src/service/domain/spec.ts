/**
 * What a detector is, apart from HTTP: its spec's type, the checks the schema cannot express, and
 * how a spec becomes the streaming detector's options. Stored specs go through `readSpec`, so a
 * spec written by an older Isoscope gets today's defaults and a damaged one a clear error.
 */
import type { Static } from 'typebox';
import { Value } from 'typebox/value';
import { defaultStreamFeatures, type FeatureSpec, type StreamOptions } from '../../engine/index.js';
import { RegistryError } from '../../io/registry/index.js';
import { DetectorSpec as DetectorSpecSchema } from '../schemas/index.js';

export type DetectorSpec = Static<typeof DetectorSpecSchema>;

/**
 * A spec as stored (JSON of any age) checked against today's schema with its defaults filled in;
 * a spec that does not fit is refused naming the detector and the first field that is wrong.
 */
export function readSpec(detectorId: string, stored: unknown): DetectorSpec {
  const spec = Value.Default(DetectorSpecSchema, Value.Clone(stored));
  if (!Value.Check(DetectorSpecSchema, spec)) {
    const [first] = Value.Errors(DetectorSpecSchema, spec);
    const where = first ? `${first.instancePath || '/'} ${first.message}` : 'does not match the schema';
    throw new RegistryError('INVALID', `detector '${detectorId}': its stored spec is invalid: ${where}`);
  }
  return spec;
}

/**
 * Refuses what the schema cannot: a fixed threshold beside a threshold policy, an alert receiver
 * this service has not configured. (An unknown preset is refused when the source is resolved.)
 */
export function checkSpec(spec: DetectorSpec, configuredReceivers: readonly string[]): void {
  const missing = (spec.alerting.receivers ?? []).filter((r) => !configuredReceivers.includes(r));
  if (missing.length > 0) {
    throw new RegistryError(
      'INVALID',
      `spec.alerting.receivers: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not configured on this service (configured: ${configuredReceivers.join(', ') || 'none'})`,
    );
  }
  if (spec.model.threshold !== undefined && spec.model.thresholdPolicy !== undefined) {
    throw new RegistryError(
      'INVALID',
      'spec.model.threshold and spec.model.thresholdPolicy: give a fixed threshold or a policy, not both',
    );
  }
}

/** A detector id from its name: lower case, spaces to dashes, only [a-z0-9._-]. */
export function detectorId(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '-')
    .replace(/[^a-z0-9._-]/g, '');
}

/**
 * The streaming detector's options for a spec over these fields: replay's defaults
 * (`defaultStreamFeatures`, the detector's own defaults) with what the spec sets on top, so a
 * detector with an empty `features` and `model` scores exactly as `isoscope replay` does.
 * `schedule.retrainOnDrift: false` turns the stream's own drift check off.
 */
export function streamOptions(spec: DetectorSpec, fields: string[]): StreamOptions {
  const f = spec.features;
  const m = spec.model;
  const features: FeatureSpec = {
    ...defaultStreamFeatures(fields, f.shingle),
    ...(f.delta !== undefined ? { delta: f.delta } : {}),
    ...(f.rollingWindow !== undefined ? { rollingWindow: f.rollingWindow } : {}),
    ...(f.timeOfDay !== undefined ? { timeOfDay: f.timeOfDay } : {}),
    ...(f.dayOfWeek !== undefined ? { dayOfWeek: f.dayOfWeek } : {}),
  };
  return {
    features,
    ...(m.trees !== undefined ? { trees: m.trees } : {}),
    ...(m.maxSamples !== undefined ? { maxSamples: m.maxSamples } : {}),
    ...(m.contamination !== undefined ? { contamination: m.contamination } : {}),
    ...(m.alertsPerDay !== undefined ? { alertsPerDay: m.alertsPerDay } : {}),
    ...(m.seed !== undefined ? { seed: m.seed } : {}),
    ...(m.outOfRange !== undefined ? { outOfRange: m.outOfRange } : {}),
    ...(spec.schedule.retrainOnDrift === false ? { driftCheckEvery: 0 } : {}),
  };
}

export type Severity = 'none' | 'low' | 'medium' | 'high' | 'critical';

/** How far above its threshold a score is, named as operators page on it. */
export function severity(score: number, threshold: number): Severity {
  const margin = score - threshold;
  if (!(margin > 0)) return 'none';
  if (margin < 0.03) return 'low';
  if (margin < 0.06) return 'medium';
  if (margin < 0.1) return 'high';
  return 'critical';
}
