/**
 * Detector health (GET /api/v1/detectors/:id/health): whether each entity is being scored, how far
 * behind, with what failures, the last training and the drift state.
 */
import { Type, type Static } from 'typebox';

export const HEALTH_STATES = ['ok', 'lagging', 'stalled', 'failing', 'not scored'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

const State = Type.Enum(HEALTH_STATES, {
  description:
    'ok; lagging: behind by more than 3 scoring periods (intervalSeconds + scoreEverySeconds); stalled: by more than 10; failing: the last scoring attempt failed; not scored: no model in production',
});

const Drift = Type.Object({
  state: Type.Enum(['stable', 'drifted', 'unchecked'] as const),
  checkedAt: Type.Optional(Type.String({ format: 'date-time' })),
  driftedFeatures: Type.Array(Type.String()),
});

export const EntityHealth = Type.Object({
  entity: Type.String({ description: "'' for a detector-wide model" }),
  state: State,
  /** Plain words: why the state is not ok, or what is scored. */
  reason: Type.String(),
  /** The production version: its detector-wide id, and its number among the entity's (v1, v2, …). */
  productionVersion: Type.Optional(Type.Integer()),
  productionEntityVersion: Type.Optional(Type.Integer()),
  /** Rows before this time have been scored in production. */
  scoredTo: Type.Optional(Type.String({ format: 'date-time' })),
  lagSeconds: Type.Optional(Type.Number({ minimum: 0 })),
  rowsScored: Type.Integer({ minimum: 0 }),
  anomalies: Type.Integer({ minimum: 0 }),
  drift: Drift,
});
export type EntityHealth = Static<typeof EntityHealth>;

export const DetectorHealth = Type.Object({
  detector: Type.String(),
  state: State,
  reason: Type.String(),
  checkedAt: Type.String({ format: 'date-time' }),
  /** The lag (seconds) above which the detector counts as lagging, and as stalled. */
  lagLimits: Type.Object({ lagging: Type.Number(), stalled: Type.Number() }),
  /** The oldest production scoredTo of its entities, and that entity's lag. */
  scoredTo: Type.Optional(Type.String({ format: 'date-time' })),
  lagSeconds: Type.Optional(Type.Number({ minimum: 0 })),
  /** Live scoring by this process since it started (`since`); backfills do not count. */
  since: Type.String({ format: 'date-time' }),
  rowsScored: Type.Integer({ minimum: 0 }),
  anomalies: Type.Integer({ minimum: 0 }),
  failures: Type.Object({
    total: Type.Integer({ minimum: 0 }),
    /** Failures since the last successful scoring pass. */
    consecutive: Type.Integer({ minimum: 0 }),
    lastAt: Type.Optional(Type.String({ format: 'date-time' })),
    lastError: Type.Optional(Type.String()),
  }),
  lastTraining: Type.Optional(
    Type.Object({
      jobId: Type.String(),
      state: Type.Enum(['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const),
      at: Type.String({ format: 'date-time', description: 'When it finished, or was queued if still open' }),
      error: Type.Optional(Type.String()),
    }),
  ),
  drift: Type.Object({
    state: Type.Enum(['stable', 'drifted', 'unchecked'] as const),
    checkedAt: Type.Optional(Type.String({ format: 'date-time' })),
    driftedEntities: Type.Array(Type.String()),
  }),
  entities: Type.Array(EntityHealth),
});
export type DetectorHealth = Static<typeof DetectorHealth>;
