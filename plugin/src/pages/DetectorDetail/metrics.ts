import type { ModelVersion } from '../../api/types';

/** The numbers of a version worth comparing, from its metrics (test split) and params. */
export interface VersionSummary {
  rows?: number;
  threshold?: number;
  /** How the threshold was set: alert-budget, contamination or fixed. */
  thresholdBy?: string;
  flaggedShare?: number;
  rocAuc?: number;
  prAuc?: number;
  f1?: number;
  criterion?: string;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function summarize(v: ModelVersion): VersionSummary {
  const m = (v.metrics ?? {}) as Record<string, unknown>;
  const p = (v.params ?? {}) as Record<string, unknown>;
  return {
    rows: num(p.rows),
    threshold: num(p.threshold),
    thresholdBy: typeof p.thresholdBy === 'string' ? p.thresholdBy : undefined,
    flaggedShare: num(m.flaggedShare),
    rocAuc: num(m.rocAuc),
    prAuc: num(m.prAuc),
    f1: num(m.f1),
    criterion: typeof p.criterion === 'string' ? p.criterion : undefined,
  };
}

/** Versions per entity, newest first, so versions of one host sit side by side. */
export function byEntity(models: ModelVersion[]): Array<[string, ModelVersion[]]> {
  const out = new Map<string, ModelVersion[]>();
  for (const m of models) {
    out.set(m.entity, [...(out.get(m.entity) ?? []), m]);
  }
  return [...out.entries()]
    .map(([e, vs]) => [e, vs.sort((a, b) => b.version - a.version)] as [string, ModelVersion[]])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

export const fmt = (v: number | undefined, digits = 3) => (v === undefined ? '–' : v.toFixed(digits));
export const pct = (v: number | undefined) => (v === undefined ? '–' : `${(v * 100).toFixed(2)}%`);

/**
 * Entities nothing scores: they have versions but none in production (a new version starts as a
 * candidate). Each with its newest version, the one to promote. A shared model's versions are
 * under the entity ''.
 */
export function unscored(models: ModelVersion[]): Array<{ entity: string; newest: ModelVersion }> {
  return byEntity(models)
    .filter(([, versions]) => !versions.some((v) => v.stage === 'production'))
    .map(([entity, versions]) => ({
      entity,
      newest: versions.find((v) => v.stage !== 'archived') ?? versions[0]!,
    }));
}

/**
 * The entity of each stage change. The history may not say (older services): then the version
 * says, when exactly one entity has that version number.
 */
export function entityOf(change: { version: number; entity?: string }, models: ModelVersion[]): string | undefined {
  if (typeof change.entity === 'string') {
    return change.entity;
  }
  const owners = new Set(models.filter((m) => m.version === change.version).map((m) => m.entity));
  return owners.size === 1 ? [...owners][0] : undefined;
}

/**
 * A version as the pages name it: its number among its entity's versions (v1, v2, …). The service's
 * `version` is the detector-wide id the API takes; a service older than per-entity numbers gives only that.
 */
export function versionLabel(v: { version: number; entityVersion?: number }): string {
  return `v${v.entityVersion ?? v.version}`;
}

/** A stage change's version as the pages name it, found among the detector's versions by its id. */
export function changeLabel(change: { version: number }, models: ModelVersion[]): string {
  const found = models.find((m) => m.version === change.version);
  return found ? versionLabel(found) : `#${change.version}`;
}
