/**
 * The HTTP API's shapes, in one place: routes validate with them, the OpenAPI document at /docs is
 * generated from them, and the Grafana plugin imports their static types (`import type`).
 */
import { Type, type Static } from 'typebox';

export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    code: Type.Optional(
      Type.String({
        description:
          'What kind of error, one of the codes in docs/api.md (e.g. BAD_RANGE, NO_DATA, INFLUX_UNAVAILABLE)',
      }),
    ),
    message: Type.String({ description: 'What is wrong, naming the field, detector or source' }),
  },
  { $id: 'ErrorResponse' },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

/** The error answers a protected /api/v1 route can give, for its response schema. */
export const ErrorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  422: ErrorResponse,
  503: ErrorResponse,
};

export const Health = Type.Object({ status: Type.Literal('ok') });

export const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  checks: Type.Object({
    registry: Type.String(),
    influx: Type.String(),
    scheduler: Type.String(),
  }),
  /** The scheduler's last whole pass and the detectors failing to score (they do not fail readiness). */
  details: Type.Optional(
    Type.Object({
      lastPassAgeSeconds: Type.Optional(Type.Number()),
      failingDetectors: Type.Array(
        Type.Object({ detector: Type.String(), since: Type.String(), error: Type.String() }),
      ),
    }),
  ),
});

export { AGGREGATES } from '../../io/influx/influxql.js';
import { AGGREGATES } from '../../io/influx/influxql.js';

const SourceDatabase = Type.String({
  minLength: 1,
  description:
    "The database to read (a Flux source: the bucket); default: the service's (ISOSCOPE_INFLUX_DB, or ISOSCOPE_INFLUX_BUCKET for Flux). Results are written to the service's own",
});

export const ExplicitSource = Type.Object(
  {
    language: Type.Optional(
      Type.Enum(['influxql', 'flux'] as const, {
        description:
          'influxql (default): the v1 /query API (InfluxDB 1.x, 2.x, 3.x); flux: InfluxDB 2.x through its own API (needs ISOSCOPE_INFLUX_TOKEN, _ORG and _BUCKET)',
      }),
    ),
    database: Type.Optional(SourceDatabase),
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
    database: Type.Optional(SourceDatabase),
    language: Type.Optional(
      Type.Enum(['influxql', 'flux'] as const, {
        description:
          'influxql (default): the v1 /query API (InfluxDB 1.x, 2.x, 3.x); flux: InfluxDB 2.x through its own API (needs ISOSCOPE_INFLUX_TOKEN, _ORG and _BUCKET)',
      }),
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
        contamination: Type.Optional(
          Type.Number({
            exclusiveMinimum: 0,
            maximum: 0.5,
            description:
              'Share of each retrain window the stream leaves out of learning as anomalous (default 0.01)',
          }),
        ),
        alertsPerDay: Type.Optional(
          Type.Number({
            exclusiveMinimum: 0,
            maximum: 10_000,
            description:
              'The alert budget: how many alerts a day each metric of an entity may raise on normal data (default 0.05); metrics that move together count as one, so an entity spends this times its effective number of metrics. Scores are calibrated so that 0.5 is this budget; higher finds milder incidents, with more false alarms',
          }),
        ),
        seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295 })),
        shared: Type.Optional(
          Type.Boolean({
            description:
              'One model for all the entities (alike hosts of a fleet), trained on their rows together and scoring each, new hosts at once; default false: one model per entity',
          }),
        ),
        outOfRange: Type.Optional(
          Type.Enum(['isolate', 'clamp'] as const, {
            description:
              "isolate (default): a value beyond the training window scores higher the further beyond it is; clamp: scikit-learn's scoring, like the window's most extreme row",
          }),
        ),
        thresholdPolicy: Type.Optional(
          Type.Enum(['alert-budget', 'contamination'] as const, {
            description:
              "contamination (default; the name is kept from older specs): the stream's own decision, as isoscope replay decides: a calibrated score over 0.5, the alert budget (alertsPerDay); alert-budget: one threshold per version, the highest score of the last three quarters of its bootstrap, so nothing there would have paged",
          }),
        ),
        threshold: Type.Optional(
          Type.Number({
            exclusiveMinimum: 0,
            exclusiveMaximum: 1,
            description:
              'A fixed score threshold in (0, 1), the same for every retrain: points scoring above it are anomalous. Instead of thresholdPolicy, not with it',
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    alerting: Type.Object(
      {
        window: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
        cooldownMinutes: Type.Integer({
          minimum: 0,
          maximum: 10_080,
          default: 30,
          description: 'After an alert resolves, the same entity does not page again for this long',
        }),
        minAnomalous: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 3,
          description: 'An alert needs this many anomalous points among the last `window`',
        }),
        minSeverity: Type.Enum(['low', 'medium', 'high', 'critical'] as const, {
          default: 'low',
          description: 'Only anomalous points at least this severe count towards an alert',
        }),
        receivers: Type.Optional(
          Type.Array(Type.Enum(['alertmanager', 'webhook'] as const), {
            uniqueItems: true,
            description:
              "Which of the service's receivers get this detector's alerts; default: every one configured; []: none (results and Grafana only)",
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    trainingWindowHours: Type.Integer({ minimum: 1, maximum: 24 * 366, default: 168 }),
    schedule: Type.Object(
      {
        scoreEverySeconds: Type.Integer({ minimum: 10, maximum: 86_400, default: 60 }),
        retrainEveryHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 366 })),
        retrainOnDrift: Type.Boolean({ default: true }),
        driftCheckEveryHours: Type.Integer({
          minimum: 1,
          maximum: 24 * 31,
          default: 6,
          description: 'How often the drift tests run (when retrainOnDrift)',
        }),
        promotion: Type.Enum(['manual', 'auto-if-better', 'always'] as const, {
          default: 'auto-if-better',
          description:
            'What a scheduled retrain does with its candidate: manual (staging, for an admin to promote), auto-if-better (production when, over the recent holdout, it finds at least as many incidents operators judged real with no more false alarms than production; without verdicts there, when it flags no more of the holdout; else staging), always (production)',
        }),
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

export const PreviewRequest = Type.Object({ spec: DetectorSpec }, { additionalProperties: false });

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
  version: Type.Integer({ description: 'The detector-wide id of the version, the one the routes take' }),
  entity: Type.String(),
  entityVersion: Type.Integer({
    minimum: 1,
    description: "Its number among its entity's versions: each entity's models are v1, v2, …",
  }),
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

export const RangeQuery = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  entity: Type.Optional(Type.String()),
  minSeverity: Type.Optional(Type.Enum(['low', 'medium', 'high', 'critical'] as const)),
});

export const Anomaly = Type.Object({
  time: Type.String({ format: 'date-time' }),
  entity: Type.String(),
  score: Type.Number(),
  severity: Type.String(),
  topFeature: Type.Optional(Type.String()),
  topContribution: Type.Optional(Type.Number()),
  modelVersion: Type.Integer(),
  threshold: Type.Optional(Type.Number({ description: 'The threshold the score was judged against' })),
});
export type Anomaly = Static<typeof Anomaly>;

export const BackfillRequest = Type.Object(
  { from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) },
  { additionalProperties: false },
);

export const ExplainQuery = Type.Object({
  entity: Type.Optional(
    Type.String({ description: "The entity (host); '' or absent for a detector without entities" }),
  ),
  time: Type.String({ format: 'date-time' }),
});

export const Explanation = Type.Object({
  detector: Type.String(),
  entity: Type.String(),
  time: Type.String({ format: 'date-time' }),
  modelVersion: Type.Integer(),
  stage: Type.Optional(Type.String({ description: 'Whose result: production' })),
  score: Type.Number({ description: 'The stored score, as the runtime gave it' }),
  threshold: Type.Number({ description: 'The threshold the score was judged against when it was scored' }),
  anomaly: Type.Boolean(),
  severity: Type.Optional(Type.String()),
  topFeature: Type.Optional(
    Type.String({ description: "The runtime's top feature (TreeSHAP in the forest group that scored it)" }),
  ),
  reproduced: Type.Boolean({
    description:
      "Whether replaying the version's runtime from its checkpoint up to this row gave the stored score (to 1e-9): the breakdown is then that of the forests that scored it",
  }),
  note: Type.Optional(
    Type.String({
      description: 'Why the replay differs from the stored result, or what it could not explain',
    }),
  ),
  replay: Type.Object(
    {
      from: Type.String({
        format: 'date-time',
        description: "Where the replay started: the checkpoint's end",
      }),
      rows: Type.Integer({ description: 'Rows replayed before the explained one' }),
      score: Type.Optional(Type.Number({ description: 'The score the replay gave the row' })),
      topFeature: Type.Optional(
        Type.String({ description: 'The top feature the replay gave the row, if flagged' }),
      ),
    },
    { description: "How the runtime's state at the row was rebuilt" },
  ),
  forest: Type.Optional(
    Type.Object(
      {
        group: Type.Enum(['levels', 'changes', 'all'] as const, {
          description:
            "The forest group explained: levels (values, lags, vs their last hour, time) or changes (change since the previous row, per second); 'all' when one forest sees every feature",
        }),
        retrain: Type.Integer({ description: "The stream's retrain that scored the row" }),
        trees: Type.Integer({ description: "Trees of the group's rolling forest" }),
        groupScores: Type.Array(Type.Number(), {
          description:
            "Each group's calibrated score of the row (levels, then changes); the explained group's is the highest",
        }),
        explainedTime: Type.Optional(
          Type.String({
            format: 'date-time',
            description:
              'The row whose features are broken down: a score is the mean of the last few rows, and the group explains the one of them it found most anomalous',
          }),
        ),
      },
      { description: 'Absent while the runtime was warming up (no forest scored the row)' },
    ),
  ),
  baseline: Type.Number({
    description: "Mean path length of a training point in the group's forests (0 when nothing was explained)",
  }),
  pathLength: Type.Number({ description: "The row's mean path length in the group's forests" }),
  contributions: Type.Array(
    Type.Object({
      feature: Type.String({
        description: "The engine's name: a field, `field.lag3`, `field.delta`, `field.z60`, `time.hour_sin`",
      }),
      field: Type.String({ description: "The raw field it derives from ('time' for time features)" }),
      contribution: Type.Number({
        description:
          'Path length this feature removed (positive = towards anomalous); they add up to baseline − pathLength',
      }),
      share: Type.Number(),
      value: Type.Number({ description: 'The feature in the explained row' }),
      percentile: Type.Number({
        description:
          "Where the value sits among the group's window of recent normal rows (what it retrains on), 0 … 1",
      }),
      trainingP5: Type.Number({ description: "The window's 5th percentile of the feature" }),
      trainingMedian: Type.Number(),
      trainingP95: Type.Number(),
      learntLow: Type.Optional(
        Type.Number({
          description: "Smallest value the group's trees split the feature at (beyond: isolated at once)",
        }),
      ),
      learntHigh: Type.Optional(
        Type.Number({ description: "Largest value the group's trees split the feature at" }),
      ),
    }),
  ),
  series: Type.Object({
    fields: Type.Array(Type.String()),
    time: Type.Array(Type.Number()),
    values: Type.Array(Type.Array(Type.Union([Type.Number(), Type.Null()]))),
  }),
});

export const QUERY_RETURNS = ['score', 'anomalies', 'features', 'contributions', 'expected'] as const;

/** One query of a Grafana panel; the plugin's query editor builds these (field names are the contract). */
export const GrafanaTarget = Type.Object({
  refId: Type.String({ minLength: 1 }),
  detector: Type.String({ description: "A detector id; '' for every detector (anomalies only)" }),
  entity: Type.Optional(
    Type.String({ description: "An entity, a Grafana multi-value '{a,b}', or ''/'*' for all" }),
  ),
  return: Type.Enum(QUERY_RETURNS),
  stage: Type.Optional(
    Type.Enum(['production', 'staging'] as const, {
      description: "Whose scores: production's (default) or the staging model's shadow scores",
    }),
  ),
  hide: Type.Optional(Type.Boolean()),
});
export type GrafanaTarget = Static<typeof GrafanaTarget>;

export const GrafanaRange = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
});

export const GrafanaQueryRequest = Type.Object({
  range: GrafanaRange,
  targets: Type.Array(GrafanaTarget, { minItems: 1, maxItems: 50 }),
});

const FieldType = Type.Enum(['time', 'number', 'string', 'boolean'] as const);

/** A data frame as Grafana's DataFrameJSON-like shape: fields with values, labels and display config. */
export const Frame = Type.Object({
  refId: Type.String(),
  name: Type.String(),
  fields: Type.Array(
    Type.Object({
      name: Type.String(),
      type: FieldType,
      values: Type.Array(Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()])),
      labels: Type.Optional(Type.Record(Type.String(), Type.String())),
      config: Type.Optional(
        Type.Object({
          unit: Type.Optional(Type.String()),
          displayName: Type.Optional(Type.String()),
          min: Type.Optional(Type.Number()),
          max: Type.Optional(Type.Number()),
          links: Type.Optional(Type.Array(Type.Object({ title: Type.String(), url: Type.String() }))),
        }),
      ),
    }),
  ),
});
export type Frame = Static<typeof Frame>;

export const GrafanaQueryResponse = Type.Object({ frames: Type.Array(Frame) });

export const GrafanaVariableRequest = Type.Object({
  find: Type.Enum(['detectors', 'entities', 'fields'] as const),
  detector: Type.Optional(Type.String()),
});

/** A value for a Grafana template variable: what to show and what to put in the query. */
export const GrafanaVariableValue = Type.Object({ text: Type.String(), value: Type.String() });

export const GrafanaAnnotationRequest = Type.Object({
  range: GrafanaRange,
  detector: Type.Optional(Type.String()),
  entity: Type.Optional(Type.String()),
  /** Runs of flagged rows (the default), or incidents as regions (to now while firing). */
  kind: Type.Optional(Type.Enum(['anomalies', 'incidents'] as const)),
});

export const GrafanaAnnotation = Type.Object({
  time: Type.Number(),
  timeEnd: Type.Number(),
  title: Type.String(),
  text: Type.String(),
  tags: Type.Array(Type.String()),
});

export const WindowQuery = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  entity: Type.Optional(Type.String()),
});

const CheckStatus = Type.Enum(['pass', 'warn', 'fail'] as const);

export const ValidationReport = Type.Object({
  entity: Type.String(),
  status: CheckStatus,
  rows: Type.Integer(),
  checks: Type.Array(
    Type.Object({
      check: Type.String(),
      status: CheckStatus,
      message: Type.String(),
      findings: Type.Array(
        Type.Object({
          column: Type.String(),
          status: CheckStatus,
          value: Type.Number(),
          note: Type.Optional(Type.String()),
        }),
      ),
    }),
  ),
});

export const DriftFeature = Type.Object({
  feature: Type.String(),
  votes: Type.Integer(),
  drifted: Type.Boolean(),
  ks: Type.Object({ statistic: Type.Number(), pvalue: Type.Number(), method: Type.String() }),
  psi: Type.Number(),
  jensenShannon: Type.Number(),
  wasserstein: Type.Number(),
  wassersteinScaled: Type.Number(),
  andersonDarling: Type.Optional(Type.Object({ statistic: Type.Number(), significanceLevel: Type.Number() })),
  verdicts: Type.Record(Type.String(), Type.Boolean()),
});

export const DriftReport = Type.Object({
  detector: Type.String(),
  entity: Type.String(),
  modelVersion: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  drifted: Type.Boolean(),
  driftedFeatures: Type.Array(Type.String()),
  ranking: Type.Array(Type.String()),
  features: Type.Array(DriftFeature),
  /** The model's scores on the recent rows against its scores on its training sample. */
  scoreDrift: Type.Optional(DriftFeature),
});
export type DriftReport = Static<typeof DriftReport>;

export const DriftRun = Type.Object(
  { hours: Type.Integer({ minimum: 1, maximum: 24 * 31, default: 24 }) },
  { additionalProperties: false },
);

// Detector health (issue 20), in its own file.
export * from './health.js';
export * from './incidents.js';
