/**
 * InfluxDB's v1 HTTP API: /query (InfluxQL, chunked JSON) and /write (line protocol). It works on
 * InfluxDB 1.x, on 2.x through its v1 compatibility API (database = bucket, token as password) and
 * on 3.x. Errors are typed: a query InfluxDB rejects (4xx, or an error in the result) is an
 * InfluxRequestError; a server that is down or failing (connection error, 5xx) is InfluxUnavailableError.
 */

import { excerpt } from '../excerpt.js';
import { InfluxQueryError } from './influxql.js';

export interface InfluxV1Options {
  url: string;
  database: string;
  /**
   * Databases a query may name besides `database` (a detector's `source.database`); any other is
   * refused before a request is sent. '*' allows any. Default: none, only `database`.
   */
  allowedDatabases?: readonly string[];
  username?: string;
  password?: string;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
  /**
   * Queries in flight at once; more wait their turn, for at most `queueTimeoutMs` (default: the
   * request timeout), then fail as INFLUX_BUSY. Default 8. Writes and pings do not wait: results
   * are written by one writer, and readiness must not queue behind slow queries.
   */
  maxConcurrentQueries?: number;
  queueTimeoutMs?: number;
  /** Told of every request: operation (query, write, ping), seconds, and whether it failed. */
  observe?: (operation: string, seconds: number, failed: boolean) => void;
}

export interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/**
 * InfluxDB refused a request as bad (4xx, or an error inside a query's result). The message holds
 * InfluxDB's own text, for the log; the service tells the client only that it was refused.
 */
export class InfluxRequestError extends Error {
  override readonly name = 'InfluxRequestError';
  readonly code = 'INFLUX_REFUSED';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** InfluxDB is down, failing (5xx) or too slow (`INFLUX_TIMEOUT`): worth retrying later. */
export class InfluxUnavailableError extends Error {
  override readonly name = 'InfluxUnavailableError';
  constructor(
    message: string,
    readonly code: 'INFLUX_UNAVAILABLE' | 'INFLUX_TIMEOUT' | 'INFLUX_BUSY' = 'INFLUX_UNAVAILABLE',
  ) {
    super(message);
  }
}

/** A fetch failure as the error the service maps: a timeout, or a server that cannot be reached. */
function unavailable(url: string, timeoutMs: number, err: unknown): InfluxUnavailableError {
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError')
    return new InfluxUnavailableError(
      `InfluxDB at ${url} did not answer within ${timeoutMs} ms`,
      'INFLUX_TIMEOUT',
    );
  return new InfluxUnavailableError(
    `InfluxDB at ${url} is unreachable (${e.cause?.code ?? e.message ?? String(err)})`,
  );
}

interface ChunkResult {
  statement_id?: number;
  series?: Series[];
  error?: string;
  partial?: boolean;
}

export class InfluxV1Client {
  readonly url: string;
  readonly database: string;
  private readonly timeoutMs: number;
  private readonly auth: string | undefined;
  private readonly observe: InfluxV1Options['observe'];
  private readonly allowed: ReadonlySet<string>;
  private readonly maxQueries: number;
  private readonly queueTimeoutMs: number;
  private activeQueries = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(options: InfluxV1Options) {
    this.url = options.url.replace(/\/+$/, '');
    this.database = options.database;
    this.allowed = new Set([options.database, ...(options.allowedDatabases ?? [])]);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxQueries = Math.max(1, options.maxConcurrentQueries ?? 8);
    this.queueTimeoutMs = options.queueTimeoutMs ?? this.timeoutMs;
    this.observe = options.observe;
    this.auth =
      options.username !== undefined || options.password !== undefined
        ? `Basic ${Buffer.from(`${options.username ?? ''}:${options.password ?? ''}`).toString('base64')}`
        : undefined;
  }

  private async request(
    path: string,
    init: { method: string; body?: string; contentType?: string },
  ): Promise<Response> {
    const started = performance.now();
    const operation = path.startsWith('/write') ? 'write' : path.startsWith('/query') ? 'query' : 'ping';
    try {
      const res = await this.send(path, init);
      this.observe?.(operation, (performance.now() - started) / 1000, false);
      return res;
    } catch (err) {
      this.observe?.(operation, (performance.now() - started) / 1000, true);
      throw err;
    }
  }

  private async send(
    path: string,
    init: { method: string; body?: string; contentType?: string },
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.auth) headers.Authorization = this.auth;
    if (init.contentType) headers['Content-Type'] = init.contentType;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method: init.method,
        headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw unavailable(this.url, this.timeoutMs, err);
    }
    if (res.status >= 500) {
      throw new InfluxUnavailableError(
        `InfluxDB at ${this.url} answered ${res.status}: ${excerpt(await this.body(res).catch(() => ''), 300)}`,
      );
    }
    if (res.status >= 400) {
      const text = await this.body(res);
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON
      }
      throw new InfluxRequestError(
        `InfluxDB refused the request (${res.status}): ${excerpt(message, 500)}`,
        res.status,
      );
    }
    return res;
  }

  /**
   * A response's body. The request's timeout covers the body too, and a body cut off (timeout,
   * connection reset) means InfluxDB is unavailable, not that the service failed.
   */
  private async body(res: Response): Promise<string> {
    try {
      return await res.text();
    } catch (err) {
      throw unavailable(this.url, this.timeoutMs, err);
    }
  }

  /** Refuses a database outside the allow-list before anything is sent. */
  private checkDatabase(database: string): void {
    if (this.allowed.has(database) || this.allowed.has('*')) return;
    throw new InfluxQueryError(
      `database ${JSON.stringify(excerpt(database))} is not one this service may read (allowed: ${[...this.allowed].join(', ')}; see ISOSCOPE_INFLUX_ALLOWED_DATABASES)`,
      'SOURCE_NOT_ALLOWED',
    );
  }

  /** Pings the server; resolves to its version. */
  async ping(): Promise<string> {
    const res = await this.request('/ping', { method: 'GET' });
    return res.headers.get('x-influxdb-version') ?? 'unknown';
  }

  /**
   * Runs InfluxQL statements and returns each statement's series. Asks for chunked results, so a
   * large answer streams in pieces; partial pieces of one series are joined back together.
   */
  /** Queries in flight and waiting (for metrics and tests). */
  get queryLoad(): { active: number; waiting: number } {
    return { active: this.activeQueries, waiting: this.waiting.length };
  }

  /** Waits for one of the query slots; resolves to its release. */
  private async querySlot(): Promise<() => void> {
    const release = (): void => {
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes straight to the next in line
      else this.activeQueries--;
    };
    if (this.activeQueries < this.maxQueries) {
      this.activeQueries++;
      return release;
    }
    await new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(turn), 1);
        reject(
          new InfluxUnavailableError(
            `${this.maxQueries} InfluxDB queries were already running for ${this.queueTimeoutMs} ms`,
            'INFLUX_BUSY',
          ),
        );
      }, this.queueTimeoutMs);
      this.waiting.push(turn);
    });
    return release;
  }

  async query(q: string, options: { database?: string } = {}): Promise<Series[][]> {
    const db = options.database ?? this.database;
    this.checkDatabase(db);
    const release = await this.querySlot();
    try {
      return await this.runQuery(q, db);
    } finally {
      release();
    }
  }

  private async runQuery(q: string, db: string): Promise<Series[][]> {
    const body = new URLSearchParams({
      q,
      db,
      epoch: 'ms',
      chunked: 'true',
      chunk_size: '10000',
    });
    const res = await this.request('/query', {
      method: 'POST',
      body: body.toString(),
      contentType: 'application/x-www-form-urlencoded',
    });
    const text = await this.body(res);
    const statements: Series[][] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let chunk: { results?: ChunkResult[]; error?: string };
      try {
        chunk = JSON.parse(line) as typeof chunk;
      } catch {
        // A proxy's error page, or an answer cut short: the server is not answering as InfluxDB.
        throw new InfluxUnavailableError(
          `InfluxDB at ${this.url} answered with something that is not its JSON: ${excerpt(line, 200)}`,
        );
      }
      if (chunk.error) throw new InfluxRequestError(`InfluxDB: ${excerpt(chunk.error, 500)}`, 400);
      for (const result of chunk.results ?? []) {
        if (result.error) throw new InfluxRequestError(`InfluxDB: ${excerpt(result.error, 500)}`, 400);
        const id = result.statement_id ?? 0;
        const list = (statements[id] ??= []);
        for (const s of result.series ?? []) {
          const last = list[list.length - 1];
          if (
            last &&
            last.name === s.name &&
            JSON.stringify(last.tags ?? {}) === JSON.stringify(s.tags ?? {})
          ) {
            last.values.push(...s.values);
          } else {
            list.push({ ...s, values: [...s.values] });
          }
        }
      }
    }
    return statements;
  }

  /** Writes lines of line protocol (millisecond precision). */
  async write(lines: string[], options: { database?: string; retentionPolicy?: string } = {}): Promise<void> {
    if (lines.length === 0) return;
    const params = new URLSearchParams({ db: options.database ?? this.database, precision: 'ms' });
    if (options.retentionPolicy) params.set('rp', options.retentionPolicy);
    await this.request(`/write?${params.toString()}`, {
      method: 'POST',
      body: lines.join('\n'),
      contentType: 'text/plain; charset=utf-8',
    });
  }

  /** CREATE DATABASE (idempotent in InfluxDB). */
  async createDatabase(name = this.database): Promise<void> {
    const escaped = `"${name.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
    await this.query(`CREATE DATABASE ${escaped}`, { database: name });
  }
}
