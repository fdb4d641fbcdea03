import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { excerpt } from '../../io/excerpt.js';
import { JsonBytes, JsonColumn, listEntities, listFields } from '../../io/influx/index.js';
import type { DetectorRecord, IncidentRecord } from '../../io/registry/index.js';
import { incidentAnnotation } from '../application/incident-points.js';
import { anomalyFrameValues } from '../application/anomaly-rows.js';
import { anomalyRuns } from '../application/results.js';
import { readSpec, type DetectorSpec } from '../domain/spec.js';
import { ServiceError } from '../plugins/errors.js';
import { whenAbandoned } from '../plugins/overload.js';
import { cachedDetector } from '../plugins/read-cache.js';
import { parseRange } from '../ranges.js';
import {
  ErrorResponse,
  GrafanaAnnotation,
  GrafanaAnnotationRequest,
  GrafanaHealth,
  GrafanaQueryRequest,
  GrafanaQueryResponse,
  GrafanaVariableRequest,
  GrafanaVariableValue,
  type Frame,
  type GrafanaTarget,
  ErrorResponses,
} from '../schemas/index.js';
import { resolveSource } from '../sources.js';
import { VERSION } from '../version.js';

/** The entities a target asks for: one, Grafana's multi-value {a,b}, or all ('' / '*' / $__all). */
export function entitiesOf(entity: string | undefined): string[] | undefined {
  if (entity === undefined || entity === '' || entity === '*' || entity === '$__all' || entity === 'All')
    return undefined;
  const multi = /^\{(.*)\}$/.exec(entity);
  return multi ? multi[1]!.split(',').map((e) => e.trim()) : [entity];
}

/** Grafana units for Telegraf's field names, so panels show %, bytes and rates without setup. */
export function unitOf(field: string): string | undefined {
  if (/percent|^usage_/.test(field)) return 'percent';
  if (/bytes/.test(field)) return 'bytes';
  if (/^load\d+$/.test(field)) return 'short';
  return undefined;
}

const DRILLDOWN = '/a/isoscope-anomaly-app/explain';

function link(detector: string, entity: string): { title: string; url: string } {
  return {
    title: 'Explain this moment',
    url: `${DRILLDOWN}?detector=${encodeURIComponent(detector)}&entity=${encodeURIComponent(entity)}&time=\${__value.time}`,
  };
}

/** A detector's spec; its record is read from the registry once every few seconds (read-cache.ts). */
async function detectorSpec(app: FastifyInstance, id: string): Promise<DetectorSpec> {
  return readSpec(id, (await cachedDetector(app, id)).spec);
}

/** The detector exists (results are read without its spec: nothing to decode per request). */
async function detectorExists(app: FastifyInstance, id: string): Promise<DetectorRecord> {
  return cachedDetector(app, id);
}

/** How often, at most, a detector's version list is read again for a version not known yet. */
const VERSIONS_RELOAD_MS = 5_000;
const versionNumbers = new WeakMap<object, Map<string, { numbers: Map<number, number>; readAt: number }>>();

/**
 * Results carry the registry's detector-wide version id; users know each entity's models as v1,
 * v2, … (the Detector page's and the explanation's numbers), so frames label them with those.
 * Returns the number of each id. A version's number never changes, so the numbers read are kept
 * (per detector as created: one deleted and created again numbers anew); the list is read again
 * only for an id not known yet (a version trained since), at most every VERSIONS_RELOAD_MS.
 */
async function versionNumber(
  app: FastifyInstance,
  detector: DetectorRecord,
  ids: Iterable<number>,
): Promise<(id: number) => number | undefined> {
  let known = versionNumbers.get(app.registry);
  if (!known) versionNumbers.set(app.registry, (known = new Map()));
  const key = `${detector.id}\n${detector.createdAt}`;
  let entry = known.get(key);
  const missing = !entry || [...ids].some((id) => Number.isInteger(id) && !entry!.numbers.has(id));
  if (missing && (!entry || performance.now() - entry.readAt >= VERSIONS_RELOAD_MS)) {
    const versions = await app.registry.models.list(detector.id);
    entry = {
      numbers: new Map(versions.map((v) => [v.version, v.entityVersion])),
      readAt: performance.now(),
    };
    known.set(key, entry);
  }
  const numbers = entry!.numbers;
  return (id) => numbers.get(id);
}

/** A frame's model_version label: the entity's number of the version (its registry id when gone). */
const versionLabel = (number: (id: number) => number | undefined, id: number): string =>
  String(number(id) ?? `id ${id}`);

type Field = Frame['fields'][number];
/** JSON text of a field's values (`a,b,c`), written from InfluxDB's answer. */
type JsonValues = JsonColumn | JsonBytes;
const isJson = (values: unknown): values is JsonValues =>
  values instanceof JsonColumn || values instanceof JsonBytes;
/** A frame field whose values may be JSON text already: a column copied from InfluxDB's answer. */
export type OutField = Omit<Field, 'values'> & { values: Field['values'] | JsonValues };
/** A frame as the answer is written from it (`framesJson`). */
export type OutFrame = Omit<Frame, 'fields'> & { fields: OutField[] };

/**
 * Score or contributions frames: one read of the stored results, grouped by entity in InfluxDB and
 * streamed into columns of JSON text, each column becoming a field's values as it is (no object,
 * string or number per point).
 */
async function resultFrames(
  app: FastifyInstance,
  t: GrafanaTarget,
  from: number,
  to: number,
  signal: AbortSignal | undefined,
): Promise<OutFrame[]> {
  const detector = await detectorExists(app, t.detector);
  const wanted = entitiesOf(t.entity);
  const blocks = await app.resultsReader.columns(t.detector, from, to, {
    anomaliesOnly: t.return === 'contributions',
    stage: t.stage ?? 'production',
    ...(wanted ? { entities: wanted } : {}),
    ...(signal ? { signal } : {}),
  });
  const number = await versionNumber(
    app,
    detector,
    blocks.map((b) => b.modelVersion),
  );
  return blocks.map((b) => {
    const entity = b.entity;
    const labels = {
      detector: t.detector,
      entity,
      model_version: versionLabel(number, b.modelVersion),
      ...(t.stage === 'staging' ? { stage: 'staging' } : {}),
    };
    const fields: OutField[] =
      t.return === 'score'
        ? [
            { name: 'time', type: 'time', values: b.time },
            {
              name: 'score',
              type: 'number',
              values: b.score,
              labels,
              config: { min: 0, max: 1, links: [link(t.detector, entity)] },
            },
            { name: 'anomaly', type: 'boolean', values: b.anomaly, labels },
            { name: 'severity', type: 'string', values: b.severity, labels },
            // Each point's own threshold, as it was judged: right for past rows after retrains too.
            ...(b.threshold.present > 0
              ? [{ name: 'threshold', type: 'number' as const, values: b.threshold, labels }]
              : []),
          ]
        : [
            { name: 'time', type: 'time', values: b.time },
            { name: 'top_feature', type: 'string', values: b.topFeature, labels },
            {
              name: 'top_contribution',
              type: 'number',
              values: b.topContribution,
              labels,
              config: { links: [link(t.detector, entity)] },
            },
            { name: 'score', type: 'number', values: b.score, labels },
          ];
    return { refId: t.refId, name: `${t.detector} ${entity}`.trim(), fields };
  });
}

/** Frames for one target: time first, then the values, labelled with detector, entity and model version. */
async function framesFor(
  app: FastifyInstance,
  t: GrafanaTarget,
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<OutFrame[]> {
  const wanted = entitiesOf(t.entity);
  if (t.return === 'anomalies') {
    const detectors = t.detector
      ? [await cachedDetector(app, t.detector)]
      : await app.registry.listDetectors();
    const parts: Array<Parameters<typeof anomalyFrameValues>[0][number]> = [];
    for (const d of detectors) {
      if (t.detector) await detectorSpec(app, d.id);
      const rows = await app.resultsReader.anomalies(d.id, from, to, {
        ...(wanted ? { wanted } : {}),
        ...(signal ? { signal } : {}),
      });
      parts.push({ detector: d.id, rows, number: await versionNumber(app, d, rows.versions()) });
    }
    // Columns of JSON text written from the bytes of InfluxDB's answers, merged by time.
    const v = anomalyFrameValues(parts);
    return [
      {
        refId: t.refId,
        name: 'anomalies',
        fields: [
          { name: 'time', type: 'time', values: v.time },
          { name: 'detector', type: 'string', values: v.detector },
          { name: 'entity', type: 'string', values: v.entity },
          {
            name: 'score',
            type: 'number',
            values: v.score,
            config: {
              min: 0,
              max: 1,
              links: [
                {
                  title: 'Explain this moment',
                  url: `${DRILLDOWN}?detector=\${__data.fields.detector}&entity=\${__data.fields.entity}&time=\${__data.fields.time}`,
                },
              ],
            },
          },
          { name: 'severity', type: 'string', values: v.severity },
          { name: 'top_feature', type: 'string', values: v.topFeature },
          { name: 'model_version', type: 'number', values: v.modelVersion },
          { name: 'threshold', type: 'number', values: v.threshold },
        ],
      },
    ];
  }
  if (t.return === 'score' || t.return === 'contributions') return resultFrames(app, t, from, to, signal);
  const spec = await detectorSpec(app, t.detector);
  const source = resolveSource(spec);
  if (t.return === 'features') {
    const series = await app.sources.read(spec, source, from, to);
    return series
      .filter((s) => !wanted || wanted.includes(s.entity))
      .map((s) => ({
        refId: t.refId,
        name: `${t.detector} ${s.entity}`.trim(),
        fields: [
          { name: 'time', type: 'time' as const, values: Array.from(s.timeMs) },
          ...source.fields.map((f, i) => {
            const unit = unitOf(f.field);
            return {
              name: f.field,
              type: 'number' as const,
              values: Array.from(s.values[i]!, (v) => (Number.isNaN(v) ? null : v)),
              labels: { detector: t.detector, entity: s.entity },
              ...(unit ? { config: { unit } } : {}),
            };
          }),
        ],
      }));
  }
  // expected: the band the production version's training rows spanned (5th–95th percentile) per field.
  const refs = await app.insight.references(t.detector);
  const number = await versionNumber(
    app,
    await cachedDetector(app, t.detector),
    [...refs.values()].map((r) => r.version),
  );
  const frames: Frame[] = [];
  for (const [entity, { version, reference }] of refs) {
    if (wanted && !wanted.includes(entity)) continue;
    const fields: Frame['fields'] = [{ name: 'time', type: 'time', values: [from, to] }];
    for (const f of source.fields) {
      const ref = reference.find((r) => r.feature === f.field);
      if (!ref) continue;
      const unit = unitOf(f.field);
      const labels = { detector: t.detector, entity, model_version: versionLabel(number, version) };
      fields.push({
        name: `${f.field}_expected_low`,
        type: 'number',
        values: [ref.quantiles[5]!, ref.quantiles[5]!],
        labels,
        ...(unit ? { config: { unit } } : {}),
      });
      fields.push({
        name: `${f.field}_expected_high`,
        type: 'number',
        values: [ref.quantiles[95]!, ref.quantiles[95]!],
        labels,
        ...(unit ? { config: { unit } } : {}),
      });
    }
    frames.push({ refId: t.refId, name: `${t.detector} ${entity} expected`.trim(), fields });
  }
  return frames;
}

/**
 * Incidents overlapping [from, to) as regions, oldest first, from the registry (where they are
 * kept; isoscope_incidents holds the same for InfluxDB's own annotation queries). A firing
 * incident reaches to now, so one whose last flag is before `from` still shows while it fires.
 */
async function incidentAnnotations(
  app: FastifyInstance,
  from: number,
  to: number,
  detector: string | undefined,
  wanted: string[] | undefined,
): Promise<Array<Static<typeof GrafanaAnnotation>>> {
  const q = detector ? { detectorId: detector } : {};
  const now = app.now();
  const found = new Map<string, IncidentRecord>();
  for (const r of await app.registry.incidents.list({ ...q, from, to, limit: 10_000 })) found.set(r.id, r);
  if (now >= from)
    for (const r of await app.registry.incidents.list({ ...q, state: 'firing', to })) found.set(r.id, r);
  return [...found.values()]
    .filter((r) => !wanted || wanted.includes(r.entity))
    .map((r) => incidentAnnotation(r, now))
    .sort((a, b) => a.time - b.time || a.title.localeCompare(b.title));
}

/** Bytes gathered before they go to the socket: a one-host day is one write, a fleet's a few. */
const FRAMES_PIECE = 1 << 20;

/** The JSON text of a field: its values as they are when they are a JsonColumn's text already. */
function fieldJson(field: OutField, out: (piece: string | JsonValues) => void): void {
  const { values, ...rest } = field;
  if (!isJson(values)) {
    out(JSON.stringify(field));
    return;
  }
  const head = JSON.stringify(rest);
  out(`${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"values":[`);
  out(values);
  out(']}');
}

/** Pieces of text and columns as one buffer of their exact size. */
function join(parts: Array<Buffer | JsonValues>, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of parts) {
    if (isJson(p)) at = p.writeTo(out, at);
    else at += p.copy(out, at);
  }
  return out;
}

/**
 * `{"frames":[…]}` as bytes: columns read from InfluxDB are copied in as the JSON text they
 * already are (once, into the answer's buffer), other values go through JSON.stringify. A small
 * answer (one host's day, about 70 KB) is one Buffer sent at once; a larger one streams in pieces
 * of about a megabyte, written one frame at a time as the socket takes them, so other requests get
 * the event loop in between. Measured under load, a stream of one piece per frame spent more in
 * its machinery and socket writes than the framing did.
 */
export function framesJson(frames: OutFrame[]): Buffer | Readable {
  const pieces = (function* () {
    let parts: Array<Buffer | JsonValues> = [];
    let size = 0;
    const out = (piece: string | JsonValues): void => {
      const part = typeof piece === 'string' ? Buffer.from(piece) : piece;
      parts.push(part);
      size += part.byteLength;
    };
    out('{"frames":[');
    for (let i = 0; i < frames.length; i++) {
      const { fields, ...rest } = frames[i]!;
      const head = JSON.stringify(rest);
      out(`${i > 0 ? ',' : ''}${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"fields":[`);
      fields.forEach((field, k) => {
        if (k > 0) out(',');
        fieldJson(field, out);
      });
      out(']}');
      if (size >= FRAMES_PIECE) {
        yield join(parts, size);
        parts = [];
        size = 0;
      }
    }
    out(']}');
    yield join(parts, size);
  })();
  const first = pieces.next();
  const second = pieces.next();
  if (second.done) return first.value as Buffer;
  return Readable.from(
    (function* () {
      yield first.value as Buffer;
      yield second.value;
      yield* pieces;
    })(),
    { objectMode: false },
  );
}

/** The endpoints Grafana's Isoscope data source calls through its proxy (/api/v1/grafana). */
const grafana: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['grafana'],
        description:
          "The data source's test: the token works, the service and InfluxDB answer, and which version runs.",
        response: { 200: GrafanaHealth, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse },
      },
    },
    async () => ({
      status: 'ok' as const,
      version: VERSION,
      detectors: (await app.registry.listDetectors()).length,
      influx: await app.influx.ping(),
    }),
  );

  app.post(
    '/query',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['grafana'],
        body: GrafanaQueryRequest,
        response: { 200: GrafanaQueryResponse, ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const { from, to } = parseRange(
        request.body.range.from,
        request.body.range.to,
        'body/range',
        'results',
      );
      const signal = whenAbandoned(reply);
      const frames: OutFrame[] = [];
      for (const t of request.body.targets) {
        if (t.hide) continue;
        if (t.detector === '' && t.return !== 'anomalies')
          throw new ServiceError(
            'BAD_REQUEST',
            `targets/${excerpt(t.refId)}: return '${t.return}' needs a detector`,
          );
        frames.push(...(await framesFor(app, t, from, to, signal)));
      }
      // Serialised here, frame by frame: the schema's serializer would test every value against
      // its four types (number, string, boolean, null), which cost more than the read itself.
      // (A stream is sent as it is; the type provider only knows the schema's object.)
      return reply.type('application/json; charset=utf-8').send(framesJson(frames) as never);
    },
  );

  app.post(
    '/variables',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['grafana'],
        body: GrafanaVariableRequest,
        response: {
          200: Type.Array(GrafanaVariableValue),
          ...ErrorResponses,
        },
      },
    },
    async (request) => {
      const { find, detector } = request.body;
      if (find === 'detectors')
        return (await app.registry.listDetectors()).map((d) => ({ text: d.name, value: d.id }));
      if (!detector) throw new ServiceError('BAD_REQUEST', `body/detector is required to find ${find}`);
      const source = resolveSource(await detectorSpec(app, detector));
      if (find === 'entities')
        return (await listEntities(app.influx, source)).map((e) => ({ text: e, value: e }));
      const known = new Set((await listFields(app.influx, source.measurement)).map((f) => f.field));
      return source.fields.filter((f) => known.has(f.field)).map((f) => ({ text: f.field, value: f.field }));
    },
  );

  app.post(
    '/annotations',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['grafana'],
        body: GrafanaAnnotationRequest,
        response: { 200: Type.Array(GrafanaAnnotation), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const { from, to } = parseRange(
        request.body.range.from,
        request.body.range.to,
        'body/range',
        'results',
      );
      const signal = whenAbandoned(reply);
      const wanted = entitiesOf(request.body.entity);
      if (request.body.kind === 'incidents') {
        if (request.body.detector) await detectorExists(app, request.body.detector);
        return incidentAnnotations(app, from, to, request.body.detector, wanted);
      }
      const detectors = request.body.detector
        ? [request.body.detector]
        : (await app.registry.listDetectors()).map((d) => d.id);
      const out: Array<Static<typeof GrafanaAnnotation>> = [];
      for (const id of detectors) {
        const spec = await detectorSpec(app, id);
        const results = (await app.resultsReader.read(id, from, to, { anomaliesOnly: true, signal })).filter(
          (r) => !wanted || wanted.includes(r.entity),
        );
        // Results carry the registry's detector-wide version id; operators know each entity's
        // models as v1, v2, … (the Detector page's numbers), so the text says those.
        const entityVersions = new Map(
          (await app.registry.models.list(id)).map((v) => [v.version, v.entityVersion]),
        );
        const model = (version: number): string => {
          const v = entityVersions.get(version);
          return v !== undefined ? `model v${v}` : `model id ${version}, no longer in the registry`;
        };
        for (const run of anomalyRuns(results, spec.intervalSeconds * 1000)) {
          const p = run.peak;
          out.push({
            time: run.from,
            timeEnd: run.to,
            title: `${id}: ${p.severity} anomaly on ${run.entity || 'all'}`,
            text: `score ${p.score.toFixed(3)}${p.threshold !== undefined ? ` over ${p.threshold.toFixed(3)}` : ''} (${model(p.modelVersion)})${p.topFeature ? `; top feature ${p.topFeature}` : ''}`,
            tags: ['isoscope', id, run.entity, p.severity].filter((x) => x !== ''),
          });
        }
      }
      return out.sort((a, b) => a.time - b.time);
    },
  );
};
export default grafana;
