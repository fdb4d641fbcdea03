/**
 * What the stores read is checked before it becomes a record: a row of the wrong shape (a column
 * edited by hand, a half-applied manual migration, another program writing the tables) stops with
 * an error naming the table, the row and the column, instead of flowing on as a wrong type.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import {
  INCIDENT_STATES,
  JOB_STATES,
  ROLES,
  SEVERITIES,
  STAGES,
  SUPPRESSION_KINDS,
  VERDICTS,
} from './types.js';

/** A row that does not match its table's shape: the registry's data is damaged, not the request. */
export class RegistryCorruptError extends Error {
  override readonly name = 'RegistryCorruptError';
}

/** Checks `value` against `schema`; the error names `what` (e.g. "detectors row 'cpu'") and the field. */
export function check<S extends TSchema>(schema: S, value: unknown, what: string): Static<S> {
  if (Value.Check(schema, value)) return value;
  const first = [...Value.Errors(schema, value)][0];
  const where = first?.instancePath ? ` at ${first.instancePath}` : '';
  throw new RegistryCorruptError(`registry: ${what} is damaged${where}: ${first?.message ?? 'invalid'}`);
}

/** Parses JSON text a row holds; `schema` (default: any JSON) says what it must be. */
export function decodeJson<S extends TSchema = TSchema>(text: string, what: string, schema?: S): Static<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RegistryCorruptError(`registry: ${what} is not JSON: ${(err as Error).message}`);
  }
  return schema ? check(schema, value, what) : (value as Static<S>);
}

/** JSON text for a column; refuses what JSON cannot hold (undefined, a function) with a named error. */
export function encodeJson(value: unknown, what: string): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`registry: ${what} cannot be stored as JSON`);
  return text;
}

/** A name for a row in errors, from its key columns when they are readable. */
export function rowName(table: string, row: unknown, keys: string[]): string {
  const r = (typeof row === 'object' && row !== null ? row : {}) as Record<string, unknown>;
  const parts = keys.map((k) => r[k]).filter((v) => typeof v === 'string' || typeof v === 'number');
  if (parts.length === 0) return `${table} row`;
  return `${table} row ${parts.length === 1 ? `'${parts[0]}'` : `(${parts.join(', ')})`}`;
}

const Int = Type.Integer();
const Nullable = <S extends TSchema>(s: S) => Type.Union([s, Type.Null()]);
const StageSchema = Type.Enum([...STAGES]);

export const DetectorRow = Type.Object({
  id: Type.String(),
  name: Type.String(),
  spec: Type.String(),
  created_at: Int,
  updated_at: Int,
});

export const VersionRow = Type.Object({
  detector_id: Type.String(),
  version: Int,
  entity: Type.String(),
  entity_version: Int,
  stage: StageSchema,
  trained_at: Int,
  metrics: Type.String(),
  params: Type.String(),
  bundle: Type.Optional(Type.String()),
});

export const StageChangeRow = Type.Object({
  detector_id: Type.String(),
  version: Int,
  from_stage: Nullable(StageSchema),
  to_stage: StageSchema,
  actor: Type.String(),
  reason: Type.String(),
  at: Int,
});

export const JobRow = Type.Object({
  id: Type.String(),
  detector_id: Type.String(),
  kind: Type.Enum(['training', 'backfill']),
  state: Type.Enum([...JOB_STATES]),
  phase: Type.String(),
  progress: Type.Number(),
  created_at: Int,
  started_at: Nullable(Int),
  finished_at: Nullable(Int),
  error: Nullable(Type.String()),
  result: Nullable(Type.String()),
  heartbeat_at: Nullable(Int),
});

export const TokenRow = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.Enum([...ROLES]),
  created_at: Int,
  revoked_at: Nullable(Int),
});

export const DetectorStateRow = Type.Object({
  detector_id: Type.String(),
  entity: Type.String(),
  stage: StageSchema,
  snapshot: Type.String(),
  cursor: Nullable(Int),
  updated_at: Int,
});

export const RuntimeStateRow = Type.Object({
  detector_id: Type.String(),
  entity: Type.String(),
  stage: Type.Union([Type.Literal('production'), Type.Literal('staging')]),
  version: Int,
  scored_to: Int,
  snapshot: Type.String(),
  updated_at: Int,
});

export const IncidentRow = Type.Object({
  id: Type.String(),
  detector_id: Type.String(),
  entity: Type.String(),
  state: Type.Enum([...INCIDENT_STATES]),
  start_at: Int,
  end_at: Int,
  peak_at: Int,
  peak_score: Type.Number(),
  severity: Type.Enum([...SEVERITIES]),
  flagged: Int,
  span_rows: Int,
  top_metrics: Type.String(),
  quiet_rows: Int,
  recent: Type.String(),
  suppressed: Type.Union([Type.Literal(0), Type.Literal(1)]),
  suppressed_by: Nullable(Type.String()),
  suppressed_reason: Nullable(Type.String()),
  suppressed_by_all: Nullable(Type.String()),
  created_at: Int,
  updated_at: Int,
});

export const TopMetricsJson = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));
export const RecentJson = Type.Array(Type.Number());
export const SuppressedByJson = Type.Array(Type.Object({ ruleId: Type.String(), reason: Type.String() }));

export const FeedbackRow = Type.Object({
  incident_id: Type.String(),
  verdict: Type.Enum([...VERDICTS]),
  note: Type.String(),
  actor: Type.String(),
  at: Int,
  annotation_id: Nullable(Type.String()),
  withdrawn_at: Nullable(Int),
});

export const AnnotationFeedbackRow = Type.Object({
  annotation_id: Type.String(),
  updated: Int,
  time_at: Nullable(Int),
  time_end_at: Nullable(Int),
  withdrawn_at: Nullable(Int),
});

export const SuppressionRow = Type.Object({
  id: Type.String(),
  detector_id: Nullable(Type.String()),
  entity: Nullable(Type.String()),
  metric: Nullable(Type.String()),
  kind: Type.Enum([...SUPPRESSION_KINDS]),
  start_at: Int,
  end_at: Int,
  reason: Type.String(),
  actor: Type.String(),
  created_at: Int,
});

export const IdRow = Type.Object({ id: Int });
export const OutboxRow = Type.Object({ id: Int, event: Type.String() });
export const TextRow = Type.Object({ text: Type.String() });
export const NumberRow = Type.Object({ n: Int });
