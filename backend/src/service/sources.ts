import {
  BatchWriter,
  InfluxV2Client,
  readWindow,
  TELEGRAF_PRESETS,
  type EntitySeries,
  type InfluxV1Client,
  type SourceSpec,
  WriteStalledError,
} from '../io/influx/index.js';
import { RegistryError } from '../io/registry/index.js';
import type { Config } from './config.js';
import type { DetectorSpec } from './domain/spec.js';

export { detectorId } from './domain/spec.js';

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

/**
 * Where detectors read their source and write their results: InfluxQL over the v1 API by default;
 * Flux through InfluxDB 2.x's own API when the source says `language: flux` (the token, org and
 * bucket then come from the config), with its results through the 2.x write API (same batching
 * and retries), so a 2.x user needs no v1 compatibility mapping for writes.
 */
export class Sources {
  private v2?: InfluxV2Client;
  private v2Writer?: BatchWriter;

  constructor(
    private readonly config: Pick<Config, 'influxToken' | 'influxOrg' | 'influxBucket' | 'influxUrl'>,
    private readonly influx: InfluxV1Client,
    private readonly v1Writer: BatchWriter,
  ) {}

  /** The InfluxDB 2.x client (created on first use); a 400 naming what the config lacks. */
  private v2Client(): InfluxV2Client {
    const { influxToken, influxOrg, influxBucket, influxUrl } = this.config;
    if (!influxToken || !influxOrg || !influxBucket) {
      throw new RegistryError(
        'INVALID',
        'spec.source.language flux needs ISOSCOPE_INFLUX_TOKEN, ISOSCOPE_INFLUX_ORG and ISOSCOPE_INFLUX_BUCKET',
      );
    }
    this.v2 ??= new InfluxV2Client({
      url: influxUrl,
      token: influxToken,
      org: influxOrg,
      bucket: influxBucket,
    });
    return this.v2;
  }

  /** A detector's source window [from, to), one series per entity. */
  read(spec: DetectorSpec, source: SourceSpec, from: number, to: number): Promise<EntitySeries[]> {
    if (spec.source.language !== 'flux') return readWindow(this.influx, source, from, to);
    return this.v2Client().readWindow(source, from, to);
  }

  /** The batch writer a detector's results go to. */
  writer(spec: DetectorSpec): BatchWriter {
    if (spec.source.language !== 'flux') return this.v1Writer;
    if (!this.v2Writer) {
      const client = this.v2Client();
      this.v2Writer = new BatchWriter((lines) => client.write(lines));
    }
    return this.v2Writer;
  }

  /** Writes result lines and waits for the flush (InfluxDB down: kept and retried by the writer). */
  async write(spec: DetectorSpec, lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const writer = this.writer(spec);
    writer.add(lines);
    await writer.flush();
  }

  /**
   * A live interval's results, waited for at most `waitMs`: throws WriteStalledError when
   * InfluxDB has not taken them by then (they stay queued and retried), so the scoring pass fails
   * and says so (/readyz, health, metrics) instead of hanging, and the interval, whose state was
   * not saved, is scored again next tick. While the writer has been failing for longer than the
   * wait, refuses at once without queueing: the interval is scored again once writes work, and
   * an outage does not queue the same interval's lines tick after tick.
   */
  async writeLive(spec: DetectorSpec, lines: string[], waitMs: number): Promise<void> {
    if (lines.length === 0) return;
    const writer = this.writer(spec);
    const stalled = writer.stalled();
    if (stalled && stalled.forMs >= waitMs)
      throw new WriteStalledError(
        `InfluxDB has not taken results for ${Math.round(stalled.forMs / 1000)} s (${stalled.pending} lines kept and retried: ${stalled.error}); this interval is scored again once it does`,
        stalled.pending,
      );
    writer.add(lines);
    await writer.flushWithin(waitMs);
  }
}
