/**
 * The HTTP API's shapes, in one place: routes validate with them, the OpenAPI document at /docs is
 * generated from them, and the Grafana plugin imports their static types (`import type`).
 */
import { Type, type Static } from 'typebox';

export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    message: Type.String({ description: 'What is wrong, naming the field, detector or source' }),
  },
  { $id: 'ErrorResponse' },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

export const Health = Type.Object({ status: Type.Literal('ok') });

export const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  checks: Type.Object({
    registry: Type.String(),
    influx: Type.String(),
  }),
});

export const AGGREGATES = [
  'mean',
  'median',
  'max',
  'min',
  'sum',
  'last',
  'first',
  'count',
  'spread',
  'stddev',
] as const;

export const ExplicitSource = Type.Object(
  {
    measurement: Type.String({ minLength: 1 }),
    retentionPolicy: Type.Optional(Type.String({ minLength: 1 })),
    fields: Type.Array(
      Type.Object({
        field: Type.String({ minLength: 1 }),
        aggregate: Type.Enum(AGGREGATES),
      }),
      { minItems: 1, maxItems: 64 },
    ),
    entityTag: Type.Optional(Type.String({ minLength: 1 })),
    tags: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })])),
    ),
  },
  { additionalProperties: false },
);

export const PresetSource = Type.Object(
  {
    preset: Type.String({
      minLength: 1,
      description:
        'A Telegraf measurement preset: cpu, mem, net, disk, diskio, system, docker_container_cpu, docker_container_mem',
    }),
    entityTag: Type.Optional(Type.String({ minLength: 1 })),
    tags: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })])),
    ),
  },
  { additionalProperties: false },
);

export const DetectorSpec = Type.Object(
  {
    source: Type.Union([PresetSource, ExplicitSource]),
    intervalSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 60 }),
    features: Type.Object(
      {
        delta: Type.Optional(Type.Boolean()),
        rollingWindow: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
        shingle: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
        timeOfDay: Type.Optional(Type.Boolean()),
        dayOfWeek: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false, default: {} },
    ),
    model: Type.Object(
      {
        trees: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
        maxSamples: Type.Optional(Type.Integer({ minimum: 2, maximum: 1_000_000 })),
        contamination: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 0.5 })),
        seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295 })),
      },
      { additionalProperties: false, default: {} },
    ),
    trainingWindowHours: Type.Integer({ minimum: 1, maximum: 24 * 366, default: 168 }),
    schedule: Type.Object(
      {
        scoreEverySeconds: Type.Integer({ minimum: 10, maximum: 86_400, default: 60 }),
        retrainEveryHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 366 })),
        retrainOnDrift: Type.Boolean({ default: true }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type DetectorSpec = Static<typeof DetectorSpec>;

export const DetectorInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 _.-]*$' }),
    spec: DetectorSpec,
  },
  { additionalProperties: false },
);
export type DetectorInput = Static<typeof DetectorInput>;

export const DetectorUpdate = Type.Object(
  {
    name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 _.-]*$' }),
    ),
    spec: Type.Optional(DetectorSpec),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type DetectorUpdate = Static<typeof DetectorUpdate>;

export const Detector = Type.Object({
  id: Type.String(),
  name: Type.String(),
  spec: DetectorSpec,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type Detector = Static<typeof Detector>;

export const DetectorParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const PreviewQuery = Type.Object({
  minutes: Type.Integer({
    minimum: 1,
    maximum: 7 * 24 * 60,
    default: 60,
    description: 'How far back to read',
  }),
});

export const Preview = Type.Object({
  measurement: Type.String(),
  fields: Type.Array(Type.String()),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  entities: Type.Array(
    Type.Object({
      entity: Type.String(),
      rows: Type.Integer(),
      time: Type.Array(Type.Number()),
      values: Type.Array(Type.Array(Type.Union([Type.Number(), Type.Null()]))),
    }),
  ),
});
export type Preview = Static<typeof Preview>;

export const GrafanaHealth = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
  detectors: Type.Integer(),
  influx: Type.String(),
});

export const Job = Type.Object({
  id: Type.String(),
  detectorId: Type.String(),
  kind: Type.Enum(['training', 'backfill'] as const),
  state: Type.Enum(['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const),
  phase: Type.String(),
  progress: Type.Number({ minimum: 0, maximum: 1 }),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Type.Optional(Type.String({ format: 'date-time' })),
  finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
  error: Type.Optional(Type.String()),
  result: Type.Optional(Type.Unknown()),
});
export type Job = Static<typeof Job>;

export const JobParams = Type.Object({ jobId: Type.String({ minLength: 1, maxLength: 64 }) });

export const TrainRequest = Type.Object(
  {
    to: Type.Optional(
      Type.String({ format: 'date-time', description: 'End of the training window (default: now)' }),
    ),
    promote: Type.Optional(
      Type.Boolean({
        description: 'Promote each new version to production at once (default: leave it a candidate)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const STAGE_NAMES = ['candidate', 'staging', 'production', 'archived'] as const;

export const ModelVersion = Type.Object({
  detectorId: Type.String(),
  version: Type.Integer(),
  entity: Type.String(),
  stage: Type.Enum(STAGE_NAMES),
  trainedAt: Type.String({ format: 'date-time' }),
  metrics: Type.Unknown(),
  params: Type.Unknown(),
});
export type ModelVersion = Static<typeof ModelVersion>;

export const ModelParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100 }),
  version: Type.Integer({ minimum: 1 }),
});

export const StageRequest = Type.Object(
  { stage: Type.Enum(STAGE_NAMES), reason: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);

export const RollbackRequest = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 500 }), entity: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export const StageChange = Type.Object({
  version: Type.Integer(),
  from: Type.Union([Type.Enum(STAGE_NAMES), Type.Null()]),
  to: Type.Enum(STAGE_NAMES),
  actor: Type.String(),
  reason: Type.String(),
  at: Type.String({ format: 'date-time' }),
});
