/**
 * The service's request and response shapes, from its TypeBox schemas: `import type` only, so no
 * service code reaches the bundle and no second hand-written copy can drift from the API.
 */
import type { Static } from 'typebox';
import type * as S from '@isoscope/backend/schemas';

export type Detector = Static<typeof S.Detector>;
export type DetectorHealth = Static<typeof S.DetectorHealth>;
export type EntityHealth = Static<typeof S.EntityHealth>;
export type DetectorInput = Static<typeof S.DetectorInput>;
export type DetectorSpec = Static<typeof S.DetectorSpec>;
export type Preview = Static<typeof S.Preview>;
export type Job = Static<typeof S.Job>;
export type ModelVersion = Static<typeof S.ModelVersion>;
export type Stage = ModelVersion['stage'];
export type StageChange = Static<typeof S.StageChange>;
export type Anomaly = Static<typeof S.Anomaly>;
export type Explanation = Static<typeof S.Explanation>;
export type DriftReport = Static<typeof S.DriftReport>;
export type DriftRun = Static<typeof S.DriftRun>;
export type GrafanaHealth = Static<typeof S.GrafanaHealth>;
export type GrafanaTarget = Static<typeof S.GrafanaTarget>;
export type GrafanaQueryResponse = Static<typeof S.GrafanaQueryResponse>;
export type GrafanaAnnotation = Static<typeof S.GrafanaAnnotation>;
export type Frame = Static<typeof S.Frame>;
export type QueryReturn = GrafanaTarget['return'];
export type Severity = NonNullable<Static<typeof S.RangeQuery>['minSeverity']>;
export type VariableFind = Static<typeof S.GrafanaVariableRequest>['find'];
export type VariableValue = Static<typeof S.GrafanaVariableValue>;
export type Incident = Static<typeof S.Incident>;
export type IncidentDetail = Static<typeof S.IncidentDetail>;
export type IncidentFilters = Static<typeof S.IncidentQuery>;
export type Feedback = Static<typeof S.Feedback>;
export type Verdict = Feedback['verdict'];
export type Suppression = Static<typeof S.Suppression>;
export type SuppressionRequest = Static<typeof S.SuppressionRequest>;
export type SuppressionAdded = Static<typeof S.SuppressionAdded>;
export type SuppressionKind = Suppression['kind'];
