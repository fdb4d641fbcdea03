import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { excerpt } from '../excerpt.js';

/**
 * Grafana's annotations HTTP API (GET /api/annotations), read with a service-account token. Only
 * what the feedback poller needs: annotations carrying any of some tags whose span overlaps a range.
 */

/** One annotation as Grafana answers it (the fields read; Grafana sends more). */
const AnnotationItem = Type.Object({
  id: Type.Integer(),
  time: Type.Integer(),
  /** Equal to `time` (or 0 in older Grafanas) for a point annotation. */
  timeEnd: Type.Optional(Type.Integer()),
  /** When it was last edited (ms); a point annotation never edited has its creation time here. */
  updated: Type.Optional(Type.Integer()),
  created: Type.Optional(Type.Integer()),
  text: Type.Optional(Type.String()),
  tags: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  login: Type.Optional(Type.String()),
  userId: Type.Optional(Type.Integer()),
  dashboardUID: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type GrafanaAnnotationItem = Static<typeof AnnotationItem>;

/** Grafana could not be asked, or answered something other than a list of annotations. */
export class GrafanaApiError extends Error {
  override readonly name = 'GrafanaApiError';
  readonly code = 'GRAFANA_UNAVAILABLE';
  constructor(
    message: string,
    /** HTTP status Grafana answered, when it answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface AnnotationQuery {
  /** Any of these (Grafana's matchAny). */
  tags: string[];
  /** Annotations whose span overlaps [from, to] (ms). */
  from: number;
  to: number;
  limit: number;
}

export class GrafanaAnnotationsClient {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async list(q: AnnotationQuery): Promise<GrafanaAnnotationItem[]> {
    const params = new URLSearchParams({
      from: String(Math.floor(q.from)),
      to: String(Math.ceil(q.to)),
      type: 'annotation',
      matchAny: 'true',
      limit: String(q.limit),
    });
    for (const t of q.tags) params.append('tags', t);
    const where = `${this.url.replace(/\/+$/, '')}/api/annotations`;
    let res: Response;
    try {
      res = await fetch(`${where}?${params}`, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new GrafanaApiError(`Grafana at ${this.url} is unreachable: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      const hint =
        res.status === 401 || res.status === 403
          ? ' (check ISOSCOPE_GRAFANA_TOKEN: a service account token with the Viewer role, or annotations:read)'
          : '';
      throw new GrafanaApiError(
        `Grafana answered ${res.status} to GET /api/annotations${hint}: ${excerpt(text)}`,
        res.status,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new GrafanaApiError(
        `Grafana's /api/annotations answered text that is not JSON: ${excerpt(text)}`,
      );
    }
    if (!Array.isArray(body))
      throw new GrafanaApiError(`Grafana's /api/annotations answered ${excerpt(text)}, not a list`);
    // One malformed item (another tool's annotation) is left out, not the whole answer.
    return body.filter((item): item is GrafanaAnnotationItem => Value.Check(AnnotationItem, item));
  }
}
