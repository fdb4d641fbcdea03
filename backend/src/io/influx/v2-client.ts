import { InfluxDB, type QueryApi, type WriteApi } from '@influxdata/influxdb-client';
import { excerpt } from '../excerpt.js';
import { fluxWindowQuery, seriesFromFluxRows } from './flux.js';
import type { EntitySeries, SourceSpec } from './reader.js';
import { InfluxRequestError, InfluxUnavailableError } from './v1-client.js';

export interface InfluxV2Options {
  url: string;
  token: string;
  org: string;
  bucket: string;
  timeoutMs?: number;
}

/**
 * InfluxDB 2.x through its own API and @influxdata/influxdb-client: Flux queries and the v2 write
 * API. Errors are mapped to the same types as the v1 client, so the service treats both alike.
 */
export class InfluxV2Client {
  private readonly queryApi: QueryApi;
  private readonly writeApi: WriteApi;
  readonly bucket: string;

  constructor(options: InfluxV2Options) {
    const db = new InfluxDB({ url: options.url, token: options.token, timeout: options.timeoutMs ?? 30_000 });
    this.queryApi = db.getQueryApi(options.org);
    // Batching and retries are BatchWriter's job; the client's own retry buffer is off.
    this.writeApi = db.getWriteApi(options.org, options.bucket, 'ms', {
      maxRetries: 0,
      batchSize: 1_000_000,
      flushInterval: 0,
    });
    this.bucket = options.bucket;
  }

  private static mapError(err: unknown): Error {
    const e = err as { statusCode?: number; message?: string; code?: string; name?: string };
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      return new InfluxRequestError(
        `InfluxDB refused the request (${e.statusCode}): ${excerpt(e.message ?? '', 500)}`,
        e.statusCode,
      );
    }
    if (e.name === 'RequestTimedOutError' || e.name === 'TimeoutError')
      return new InfluxUnavailableError(
        `InfluxDB 2.x did not answer in time: ${excerpt(e.message ?? '', 200)}`,
        'INFLUX_TIMEOUT',
      );
    return new InfluxUnavailableError(
      `InfluxDB 2.x is unreachable or failing: ${excerpt(e.message ?? String(err), 300)}`,
    );
  }

  /** A source's window through Flux, as series per entity (the same shape as the InfluxQL reader's). */
  async readWindow(source: SourceSpec, from: number, to: number): Promise<EntitySeries[]> {
    // Built outside the try: a query that cannot be built is the caller's error, not an outage.
    const query = fluxWindowQuery(source.database ?? this.bucket, source, from, to);
    try {
      const rows = await this.queryApi.collectRows<Record<string, unknown>>(query);
      return seriesFromFluxRows(rows, source);
    } catch (err) {
      throw InfluxV2Client.mapError(err);
    }
  }

  /** Writes lines of line protocol (ms precision) through the v2 write API. */
  async write(lines: string[]): Promise<void> {
    try {
      this.writeApi.writeRecords(lines);
      await this.writeApi.flush();
    } catch (err) {
      throw InfluxV2Client.mapError(err);
    }
  }

  async close(): Promise<void> {
    await this.writeApi.close().catch(() => undefined);
  }
}
