import { lastValueFrom } from 'rxjs';
import { getBackendSrv, isFetchError, type FetchError } from '@grafana/runtime';
import type {
  Anomaly,
  Detector,
  DetectorHealth,
  DetectorInput,
  DetectorSpec,
  DriftReport,
  Explanation,
  GrafanaAnnotation,
  GrafanaHealth,
  GrafanaQueryResponse,
  GrafanaTarget,
  Feedback,
  Incident,
  IncidentDetail,
  IncidentFilters,
  Job,
  ModelVersion,
  Preview,
  Severity,
  Stage,
  StageChange,
  Suppression,
  SuppressionAdded,
  SuppressionRequest,
  Verdict,
  VariableFind,
  VariableValue,
} from './types';

export interface TelegrafPreset {
  name: string;
  measurement: string;
  entityTag?: string;
  fields: string[];
}

/** What went wrong talking to the service, in words an operator can act on. */
export class IsoscopeError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'IsoscopeError';
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type Params = Record<string, string | number | boolean | undefined>;

/**
 * The Isoscope HTTP API as Grafana's data source proxy serves it: `base` is the data source's
 * proxy URL (`/api/datasources/proxy/uid/<uid>`) and `api/` is the route in the data source's
 * plugin.json that adds the token on Grafana's server, so the token never reaches the browser.
 */
export class IsoscopeClient {
  constructor(private readonly base: string) {}

  /** The URL a request goes to, exposed so the contract test can match it against plugin.json's routes. */
  url(path: string, params?: Params): string {
    const query = Object.entries(params ?? {})
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    return `${this.base}/api/${path}${query ? `?${query}` : ''}`;
  }

  async request<T>(method: Method, path: string, options: { params?: Params; body?: unknown } = {}): Promise<T> {
    try {
      const response = await lastValueFrom(
        getBackendSrv().fetch<T>({
          method,
          url: this.url(path, options.params),
          data: options.body,
          showErrorAlert: false,
          showSuccessAlert: false,
        })
      );
      return response.data;
    } catch (error) {
      throw toIsoscopeError(error);
    }
  }

  health(): Promise<GrafanaHealth> {
    return this.request('GET', 'grafana/health');
  }
  query(range: { from: string; to: string }, targets: GrafanaTarget[]): Promise<GrafanaQueryResponse> {
    return this.request('POST', 'grafana/query', { body: { range, targets } });
  }
  variables(find: VariableFind, detector?: string): Promise<VariableValue[]> {
    return this.request('POST', 'grafana/variables', { body: detector ? { find, detector } : { find } });
  }
  annotations(
    range: { from: string; to: string },
    detector?: string,
    entity?: string,
    kind?: 'anomalies' | 'incidents'
  ): Promise<GrafanaAnnotation[]> {
    // No kind: the service's default (anomalies), and the body older services accept.
    return this.request('POST', 'grafana/annotations', {
      body: { range, detector, entity, ...(kind ? { kind } : {}) },
    });
  }

  detectors(): Promise<Detector[]> {
    return this.request('GET', 'detectors');
  }
  detector(id: string): Promise<Detector> {
    return this.request('GET', `detectors/${encodeURIComponent(id)}`);
  }
  createDetector(input: DetectorInput): Promise<Detector> {
    return this.request('POST', 'detectors', { body: input });
  }
  updateDetector(id: string, input: Partial<DetectorInput>): Promise<Detector> {
    return this.request('PUT', `detectors/${encodeURIComponent(id)}`, { body: input });
  }
  deleteDetector(id: string): Promise<void> {
    return this.request('DELETE', `admin/detectors/${encodeURIComponent(id)}`);
  }
  /** The source data of a saved detector (`id`) or of a spec being edited. */
  preview(detector: { id: string } | { spec: DetectorSpec }, minutes = 60): Promise<Preview> {
    return 'id' in detector
      ? this.request('GET', `detectors/${encodeURIComponent(detector.id)}/preview`, { params: { minutes } })
      : this.request('POST', 'detectors/preview', { params: { minutes }, body: { spec: detector.spec } });
  }
  /** Whether each entity is scored and how far behind, failures, last training, drift. */
  detectorHealth(id: string): Promise<DetectorHealth> {
    return this.request('GET', `detectors/${encodeURIComponent(id)}/health`);
  }
  presets(): Promise<TelegrafPreset[]> {
    return this.request('GET', 'presets');
  }

  train(id: string, options: { promote?: boolean } = {}): Promise<Job> {
    return this.request('POST', `detectors/${encodeURIComponent(id)}/train`, { body: options });
  }
  /** Scores a past range with the production models and writes the results, as a job. */
  backfill(id: string, range: { from: string; to: string }): Promise<Job> {
    return this.request('POST', `detectors/${encodeURIComponent(id)}/backfill`, { body: range });
  }
  jobs(id: string): Promise<Job[]> {
    return this.request('GET', `detectors/${encodeURIComponent(id)}/jobs`);
  }
  job(jobId: string): Promise<Job> {
    return this.request('GET', `jobs/${encodeURIComponent(jobId)}`);
  }
  cancelJob(jobId: string): Promise<Job> {
    return this.request('POST', `jobs/${encodeURIComponent(jobId)}/cancel`, { body: {} });
  }

  models(id: string): Promise<ModelVersion[]> {
    return this.request('GET', `detectors/${encodeURIComponent(id)}/models`);
  }
  setStage(id: string, version: number, stage: Stage, reason: string): Promise<unknown> {
    return this.request('POST', `admin/detectors/${encodeURIComponent(id)}/models/${version}/stage`, {
      body: { stage, reason },
    });
  }
  rollback(id: string, reason: string, entity?: string): Promise<unknown> {
    return this.request('POST', `admin/detectors/${encodeURIComponent(id)}/rollback`, {
      body: entity === undefined ? { reason } : { reason, entity },
    });
  }
  history(id: string): Promise<StageChange[]> {
    return this.request('GET', `detectors/${encodeURIComponent(id)}/history`);
  }

  anomalies(
    id: string,
    range: { from: string; to: string },
    options: { entity?: string; minSeverity?: Severity } = {}
  ): Promise<Anomaly[]> {
    return this.request('GET', `detectors/${encodeURIComponent(id)}/anomalies`, { params: { ...range, ...options } });
  }
  explain(id: string, entity: string, time: string): Promise<Explanation> {
    return this.request('GET', `detectors/${encodeURIComponent(id)}/explain`, { params: { entity, time } });
  }
  /** Incidents newest first: by detector, entity, minimum severity, state and the range they overlap. */
  incidents(filters: IncidentFilters = {}): Promise<Incident[]> {
    return this.request('GET', 'incidents', { params: { ...filters } });
  }
  incident(id: string): Promise<IncidentDetail> {
    return this.request('GET', `incidents/${encodeURIComponent(id)}`);
  }
  /** Records a verdict on an incident (editor). */
  feedback(id: string, verdict: Verdict, note = ''): Promise<Feedback> {
    return this.request('POST', `incidents/${encodeURIComponent(id)}/feedback`, { body: { verdict, note } });
  }
  /** Suppression rules, oldest first, windows as written. */
  suppressions(): Promise<Suppression[]> {
    return this.request('GET', 'suppressions');
  }
  /** Adds a rule (editor): flagged points inside it still make incidents, but do not page. */
  /** With `applySince`, the answer says what applying it to recorded incidents did (`applied`). */
  createSuppression(rule: SuppressionRequest): Promise<SuppressionAdded> {
    return this.request('POST', 'suppressions', { body: rule });
  }
  deleteSuppression(id: string): Promise<void> {
    return this.request('DELETE', `suppressions/${encodeURIComponent(id)}`);
  }
  drift(id: string): Promise<DriftReport[]> {
    return this.request('GET', `detectors/${encodeURIComponent(id)}/drift`);
  }
  runDrift(id: string, hours = 24): Promise<DriftReport[]> {
    return this.request('POST', `detectors/${encodeURIComponent(id)}/drift`, { body: { hours } });
  }
}

/** The message an operator sees, from what Grafana's proxy or the service answered. */
export function toIsoscopeError(error: unknown): IsoscopeError {
  if (error instanceof IsoscopeError) {
    return error;
  }
  if (isFetchError(error)) {
    return new IsoscopeError(describe(error), error.status);
  }
  return new IsoscopeError(error instanceof Error ? error.message : String(error), 0);
}

function describe(error: FetchError): string {
  const data = error.data as { message?: unknown } | undefined;
  const said = typeof data?.message === 'string' ? data.message : '';
  switch (error.status) {
    case 503:
      if (said) {
        // The service itself answered: it is up, but InfluxDB is not.
        return `The Isoscope service answers, but cannot reach InfluxDB: ${said}`;
      }
    // falls through: a 503 without the service's message came from in between
    case 0:
    case 502:
    case 504:
      return `The Isoscope service is unreachable (HTTP ${error.status || 'no answer'}): check the data source's URL and that the service runs.${said ? ` ${said}` : ''}`;
    case 401:
      return 'The Isoscope service refused the token: set a valid token in the data source settings (isoscope token create).';
    case 403:
      return said && !said.includes('access denied')
        ? `Not allowed: ${said}`
        : 'Not allowed: your Grafana role or the data source token cannot do this.';
    default:
      return (
        said || `The Isoscope service answered HTTP ${error.status}${error.statusText ? ` ${error.statusText}` : ''}`
      );
  }
}
