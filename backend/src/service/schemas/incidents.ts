/** Incidents and the feedback on them: the shapes of /api/v1/incidents. */
import { Type, type Static } from 'typebox';

export const INCIDENT_STATE_NAMES = ['firing', 'resolved'] as const;
export const VERDICT_NAMES = ['real', 'expected', 'not_anomaly'] as const;
export const INCIDENT_SEVERITY_NAMES = ['low', 'medium', 'high', 'critical'] as const;

export const IncidentQuery = Type.Object({
  detector: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  entity: Type.Optional(Type.String({ maxLength: 200 })),
  severity: Type.Optional(
    Type.Enum(INCIDENT_SEVERITY_NAMES, { description: 'Incidents of this severity or worse' }),
  ),
  state: Type.Optional(Type.Enum(INCIDENT_STATE_NAMES)),
  from: Type.Optional(
    Type.String({ format: 'date-time', description: 'Incidents that end at or after this time' }),
  ),
  to: Type.Optional(
    Type.String({ format: 'date-time', description: 'Incidents that start before this time' }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 500 })),
});

export const IncidentParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const FeedbackRequest = Type.Object(
  {
    verdict: Type.Enum(VERDICT_NAMES, {
      description:
        "'real': a problem worth the page; 'expected': real but planned or known; 'not_anomaly': normal behaviour flagged",
    }),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

export const Feedback = Type.Object({
  verdict: Type.Enum(VERDICT_NAMES),
  note: Type.String(),
  actor: Type.String({
    description:
      "The name of the token that gave it; 'grafana:<login>' for a verdict from a Grafana annotation",
  }),
  at: Type.String({ format: 'date-time' }),
  withdrawn: Type.Optional(
    Type.String({
      format: 'date-time',
      description:
        'In an incident’s history only: when the Grafana annotation that gave it was deleted, lost its verdict tag or was edited. A withdrawn verdict is no longer the incident’s.',
    }),
  ),
});
export type Feedback = Static<typeof Feedback>;

export const Incident = Type.Object({
  id: Type.String(),
  detector: Type.String(),
  entity: Type.String(),
  state: Type.Enum(INCIDENT_STATE_NAMES),
  start: Type.String({ format: 'date-time', description: 'The first flagged row' }),
  end: Type.String({ format: 'date-time', description: 'The last flagged row (so far, while firing)' }),
  peak: Type.String({
    format: 'date-time',
    description: 'Where the smoothed score peaked: the moment to explain',
  }),
  peakScore: Type.Number({ description: 'The smoothed score at the peak (0.5 is the threshold)' }),
  severity: Type.String({ description: 'The worst severity of its rows' }),
  flagged: Type.Integer({ description: 'Rows flagged' }),
  rows: Type.Integer({ description: 'Rows from the first flagged one to the last' }),
  topMetrics: Type.Array(Type.Object({ metric: Type.String(), count: Type.Integer() }), {
    description: 'How often each metric was the top feature of a flagged row, most first',
  }),
  suppressed: Type.Boolean({ description: 'Every flagged row fell inside a suppression rule: not paged' }),
  suppressedBy: Type.Optional(
    Type.Object(
      {
        rule: Type.String({ description: "The suppression rule's id (it may have been deleted since)" }),
        reason: Type.String({ description: "The rule's reason, as it was when it held the incident" }),
      },
      {
        description:
          'While suppressed: the rule that held its first flagged row. Absent for incidents suppressed before Isoscope recorded it.',
      },
    ),
  ),
  suppressedByAll: Type.Optional(
    Type.Array(
      Type.Object({
        rule: Type.String({ description: "The suppression rule's id (it may have been deleted since)" }),
        reason: Type.String({ description: "The rule's reason, as it was when it held the incident" }),
      }),
      {
        description:
          'While suppressed: every rule that held at least one of its flagged rows (several can cover one incident between them), in the order they first did; the first is suppressedBy.',
      },
    ),
  ),
  feedback: Type.Optional(Feedback),
});
export type Incident = Static<typeof Incident>;

export const IncidentDetail = Type.Object({
  ...Incident.properties,
  history: Type.Array(Feedback, {
    description: 'Every verdict given, oldest first, the ones withdrawn since with `withdrawn`',
  }),
});
export type IncidentDetail = Static<typeof IncidentDetail>;

export const LabelsQuery = Type.Object({
  detector: Type.String({ minLength: 1, maxLength: 100 }),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  entity: Type.Optional(Type.String({ maxLength: 200 })),
});

export const SUPPRESSION_KIND_NAMES = ['daily', 'weekly', 'period'] as const;

export const SuppressionRequest = Type.Object(
  {
    detector: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Unset: every detector' }),
    ),
    entity: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Unset: every entity' })),
    metric: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: "The flagged row's top feature (e.g. usage_iowait); unset: any",
      }),
    ),
    kind: Type.Enum(SUPPRESSION_KIND_NAMES),
    from: Type.String({
      minLength: 1,
      maxLength: 40,
      description: "daily: '02:00'; weekly: 'Sat 22:00'; period: a date-time. UTC.",
    }),
    to: Type.String({
      minLength: 1,
      maxLength: 40,
      description: 'As from; a daily or weekly window may wrap',
    }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    applySince: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          'Also apply the rule to incidents already recorded whose span reaches this time or later: each one whose every flagged row now falls inside a rule (this one holding at least one) becomes suppressed, and its alert, if firing, resolves. Unset: only rows scored from now on.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const Suppression = Type.Object({
  id: Type.String(),
  detector: Type.Optional(Type.String()),
  entity: Type.Optional(Type.String()),
  metric: Type.Optional(Type.String()),
  kind: Type.Enum(SUPPRESSION_KIND_NAMES),
  from: Type.String(),
  to: Type.String(),
  reason: Type.String(),
  actor: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
export type Suppression = Static<typeof Suppression>;

export const SuppressionAdded = Type.Object({
  ...Suppression.properties,
  applied: Type.Optional(
    Type.Object(
      {
        since: Type.String({ format: 'date-time' }),
        incidents: Type.Integer({ description: 'Incidents recorded since then that the rule changed' }),
        suppressed: Type.Integer({
          description: 'Of those, how many it made suppressed (the rest were already)',
        }),
      },
      { description: 'With applySince: what applying the rule to recorded incidents did' },
    ),
  ),
});
export type SuppressionAdded = Static<typeof SuppressionAdded>;

export const SuppressionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
