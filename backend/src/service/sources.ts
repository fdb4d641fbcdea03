import type { FastifyInstance } from 'fastify';
import {
  BatchWriter,
  InfluxV2Client,
  readWindow,
  TELEGRAF_PRESETS,
  type EntitySeries,
  type SourceSpec,
} from '../io/influx/index.js';
import { RegistryError } from '../io/registry/index.js';
import type { DetectorSpec } from './schemas/index.js';

/** A detector's source as the reader needs it: presets expanded, the interval attached. */
export function resolveSource(spec: DetectorSpec): SourceSpec {
  const source = spec.source;
  if ('preset' in source) {
    const preset = TELEGRAF_PRESETS[source.preset];
    if (!preset) {
      throw new RegistryError(
        'INVALID',
        `spec.source.preset '${source.preset}' is not one of ${Object.keys(TELEGRAF_PRESETS).join(', ')}`,
      );
    }
    return {
      ...preset,
      ...(source.database ? { database: source.database } : {}),
      ...(source.entityTag ? { entityTag: source.entityTag } : {}),
      ...(preset.tags || source.tags ? { tags: { ...preset.tags, ...source.tags } } : {}),
      intervalSeconds: spec.intervalSeconds,
    };
  }
  return { ...source, intervalSeconds: spec.intervalSeconds };
}

/** A detector id from its name: lower case, spaces to dashes, only [a-z0-9._-]. */
export function detectorId(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '-')
    .replace(/[^a-z0-9._-]/g, '');
}

const v2Clients = new WeakMap<FastifyInstance, InfluxV2Client>();

/** The InfluxDB 2.x client of this app (created on first use); a 400 naming what the config lacks. */
function v2Client(app: FastifyInstance): InfluxV2Client {
  const { influxToken, influxOrg, influxBucket, influxUrl } = app.config;
  if (!influxToken || !influxOrg || !influxBucket) {
    throw new RegistryError(
      'INVALID',
      'spec.source.language flux needs ISOSCOPE_INFLUX_TOKEN, ISOSCOPE_INFLUX_ORG and ISOSCOPE_INFLUX_BUCKET',
    );
  }
  let client = v2Clients.get(app);
  if (!client) {
    client = new InfluxV2Client({ url: influxUrl, token: influxToken, org: influxOrg, bucket: influxBucket });
    v2Clients.set(app, client);
  }
  return client;
}

/**
 * Reads a detector's source window: InfluxQL over the v1 API by default, Flux through InfluxDB
 * 2.x's own API when the source says `language: flux` (the token, org and bucket then come from
 * the config).
 */
export async function readSource(
  app: FastifyInstance,
  spec: DetectorSpec,
  source: SourceSpec,
  from: number,
  to: number,
): Promise<EntitySeries[]> {
  if (spec.source.language !== 'flux') return readWindow(app.influx, source, from, to);
  return v2Client(app).readWindow(source, from, to);
}

const v2Writers = new WeakMap<FastifyInstance, BatchWriter>();

/**
 * Where a detector's results go: the v1 /write batch writer, or for a Flux source the 2.x write
 * API (same batching and retries), so a 2.x user needs no v1 compatibility mapping for writes.
 */
export function resultsWriter(app: FastifyInstance, spec: DetectorSpec): BatchWriter {
  if (spec.source.language !== 'flux') return app.results;
  let writer = v2Writers.get(app);
  if (!writer) {
    const client = v2Client(app);
    writer = new BatchWriter((lines) => client.write(lines));
    v2Writers.set(app, writer);
  }
  return writer;
}
