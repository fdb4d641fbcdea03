import { TELEGRAF_PRESETS, type SourceSpec } from '../io/influx/index.js';
import { RegistryError } from '../io/registry/index.js';
import type { DetectorSpec } from './schemas/index.js';

/** A detector's source as the reader needs it: presets expanded, the interval attached. */
export function resolveSource(spec: DetectorSpec): SourceSpec {
  const source = spec.source;
  if ('preset' in source) {
    const preset = TELEGRAF_PRESETS[source.preset];
    if (!preset) {
      throw new RegistryError(
        'INVALID',
        `spec.source.preset '${source.preset}' is not one of ${Object.keys(TELEGRAF_PRESETS).join(', ')}`,
      );
    }
    return {
      ...preset,
      ...(source.entityTag ? { entityTag: source.entityTag } : {}),
      ...(preset.tags || source.tags ? { tags: { ...preset.tags, ...source.tags } } : {}),
      intervalSeconds: spec.intervalSeconds,
    };
  }
  return { ...source, intervalSeconds: spec.intervalSeconds };
}

/** A detector id from its name: lower case, spaces to dashes, only [a-z0-9._-]. */
export function detectorId(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '-')
    .replace(/[^a-z0-9._-]/g, '');
}
