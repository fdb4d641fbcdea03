import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  RegistryError,
  SEVERITIES,
  type IncidentFeedback,
  type IncidentRecord,
} from '../../io/registry/index.js';
import { parseRange, parseTime } from '../ranges.js';
import {
  ErrorResponses,
  Feedback,
  FeedbackRequest,
  Incident,
  IncidentDetail,
  IncidentParams,
  IncidentQuery,
  LabelsQuery,
} from '../schemas/index.js';
import { labelRows, labelsCsv } from '../application/incidents.js';
import { actorOf } from './models.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export function toFeedback(f: IncidentFeedback): Feedback {
  return {
    verdict: f.verdict,
    note: f.note,
    actor: f.actor,
    at: iso(f.at),
    ...(f.withdrawnAt !== undefined ? { withdrawn: iso(f.withdrawnAt) } : {}),
  };
}

export function toIncident(r: IncidentRecord, feedback?: IncidentFeedback): Incident {
  return {
    id: r.id,
    detector: r.detectorId,
    entity: r.entity,
    state: r.state,
    start: iso(r.startAt),
    end: iso(r.endAt),
    peak: iso(r.peakAt),
    peakScore: r.peakScore,
    severity: r.severity,
    flagged: r.flagged,
    rows: r.spanRows,
    topMetrics: Object.entries(r.topMetrics)
      .map(([metric, count]) => ({ metric, count }))
      .sort((a, b) => b.count - a.count || a.metric.localeCompare(b.metric)),
    suppressed: r.suppressed,
    ...(r.suppressedBy
      ? { suppressedBy: { rule: r.suppressedBy.ruleId, reason: r.suppressedBy.reason } }
      : {}),
    ...(r.suppressedByAll
      ? { suppressedByAll: r.suppressedByAll.map((b) => ({ rule: b.ruleId, reason: b.reason })) }
      : {}),
    ...(feedback ? { feedback: toFeedback(feedback) } : {}),
  };
}

/** /api/v1/incidents: flagged rows grouped as the person on call meets them, and verdicts on them. */
const incidents: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['incidents'],
        description:
          'Incidents newest first, each with its latest verdict: by detector, entity, minimum severity, state, and the time range they overlap.',
        querystring: IncidentQuery,
        response: { 200: Type.Array(Incident), ...ErrorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      if (q.detector !== undefined) await app.runtimes.detector(q.detector);
      const range =
        q.from !== undefined && q.to !== undefined
          ? parseRange(q.from, q.to, 'querystring', 'results')
          : {
              ...(q.from !== undefined ? { from: parseTime(q.from, 'querystring/from') } : {}),
              ...(q.to !== undefined ? { to: parseTime(q.to, 'querystring/to') } : {}),
            };
      const min = q.severity ? SEVERITIES.indexOf(q.severity) : 1;
      const list = await app.registry.incidents.list({
        ...(q.detector !== undefined ? { detectorId: q.detector } : {}),
        ...(q.entity !== undefined ? { entity: q.entity } : {}),
        ...(q.state !== undefined ? { state: q.state } : {}),
        ...(q.severity !== undefined ? { severities: SEVERITIES.slice(min) } : {}),
        ...range,
        limit: q.limit ?? 500,
      });
      const latest = new Map<string, IncidentFeedback>();
      for (const f of await app.registry.incidents.feedback(list.map((i) => i.id)))
        latest.set(f.incidentId, f);
      return list.map((i) => toIncident(i, latest.get(i.id)));
    },
  );

  app.get(
    '/labels',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['incidents'],
        description:
          "A detector's production results over a range as CSV (time, entity, score, threshold, is_anomaly, label), labelled by operators' verdicts: 1 inside an incident judged real or expected, 0 inside one judged not_anomaly and outside incidents; rows inside an incident nobody judged are left out. `isoscope evaluate --scores f.csv --labels f.csv --series-column entity` reads it.",
        querystring: LabelsQuery,
        produces: ['text/csv'],
        response: { 200: Type.String({ description: 'CSV' }), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const q = request.query;
      await app.runtimes.detector(q.detector);
      const { from, to } = parseRange(q.from, q.to, 'querystring', 'results');
      const [results, incidents] = await Promise.all([
        app.resultsReader.read(q.detector, from, to, q.entity !== undefined ? { entity: q.entity } : {}),
        app.registry.incidents.list({
          detectorId: q.detector,
          ...(q.entity !== undefined ? { entity: q.entity } : {}),
          from,
          to,
          limit: 10_000,
        }),
      ]);
      const verdicts = new Map<string, string>();
      for (const f of await app.registry.incidents.feedback(incidents.map((i) => i.id)))
        verdicts.set(f.incidentId, f.verdict);
      const rows = labelRows(
        results.map((r) => ({
          timeMs: r.timeMs,
          entity: r.entity,
          score: r.score,
          anomaly: r.anomaly,
          ...(r.threshold !== undefined ? { threshold: r.threshold } : {}),
        })),
        incidents,
        verdicts,
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="${q.detector}-labels.csv"`)
        .send(labelsCsv(rows));
    },
  );

  app.get(
    '/:id',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['incidents'],
        params: IncidentParams,
        response: { 200: IncidentDetail, ...ErrorResponses },
      },
    },
    async (request) => {
      const found = await app.registry.incidents.get(request.params.id);
      if (!found) throw new RegistryError('NOT_FOUND', `no incident '${request.params.id}'`);
      const history = await app.registry.incidents.feedback([found.id], { withdrawn: true });
      const standing = history.filter((f) => f.withdrawnAt === undefined);
      return { ...toIncident(found, standing.at(-1)), history: history.map(toFeedback) };
    },
  );

  app.post(
    '/:id/feedback',
    {
      config: { role: 'editor' },
      schema: {
        tags: ['incidents'],
        description:
          "Records a verdict on an incident ('real', 'expected', 'not_anomaly') with an optional note; the latest is the incident's verdict, every one stays in its history. Exported as labels by GET /api/v1/incidents/labels.",
        params: IncidentParams,
        body: FeedbackRequest,
        response: { 201: Feedback, ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const f = await app.registry.incidents.addFeedback({
        incidentId: request.params.id,
        verdict: request.body.verdict,
        note: request.body.note ?? '',
        actor: actorOf(request.principal),
        at: app.now(),
      });
      return reply.code(201).send(toFeedback(f));
    },
  );
};
export default incidents;
