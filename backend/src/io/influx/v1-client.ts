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

/** One HTTP request to InfluxDB, as the client sends it. */
interface InfluxRequest {
  method: string;
  body?: string;
  contentType?: string;
  /** The timeout combined with the caller's signal; `caller` alone tells a cancel from a timeout. */
  signal?: AbortSignal;
  caller?: AbortSignal | undefined;
}

export interface QueryOptions {
  /** A database other than the client's own (it must be allowed). */
  database?: string;
  /** Cancels the query: its request is aborted, and the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

function sameTags(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === b) return true;
  const ka = a ? Object.keys(a) : [];
  const kb = b ? Object.keys(b) : [];
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (a![k] !== b?.[k]) return false;
  return true;
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

  private async request(path: string, init: InfluxRequest): Promise<Response> {
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

  private async send(path: string, init: InfluxRequest): Promise<Response> {
    // Uncompressed: fetch would ask for gzip, and InfluxDB compressing every answer and the service
    // inflating it cost both of them CPU per query (about a tenth of a Grafana query's) to save
    // bytes on what is usually a local network.
    const headers: Record<string, string> = { 'Accept-Encoding': 'identity' };
    if (this.auth) headers.Authorization = this.auth;
    if (init.contentType) headers['Content-Type'] = init.contentType;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method: init.method,
        headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
        signal: init.signal ?? AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw this.failure(err, init.caller);
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
   * The error a failed fetch or body read becomes: the caller's own reason when the caller
   * cancelled (its client went away), else a timeout or an unreachable server.
   */
  private failure(err: unknown, caller: AbortSignal | undefined): unknown {
    if (caller?.aborted) return caller.reason ?? err;
    return unavailable(this.url, this.timeoutMs, err);
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

  /** Queries in flight and waiting (for metrics, the overload check and tests). */
  get queryLoad(): { active: number; waiting: number } {
    return { active: this.activeQueries, waiting: this.waiting.length };
  }

  /** How many queries may run at once (`maxConcurrentQueries`). */
  get querySlots(): number {
    return this.maxQueries;
  }

  /**
   * Waits for one of the query slots; resolves to its release. A caller that is cancelled while
   * it waits leaves the line at once, with its signal's reason.
   */
  private async querySlot(signal?: AbortSignal): Promise<() => void> {
    const release = (): void => {
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes straight to the next in line
      else this.activeQueries--;
    };
    signal?.throwIfAborted();
    if (this.activeQueries < this.maxQueries) {
      this.activeQueries++;
      return release;
    }
    await new Promise<void>((resolve, reject) => {
      const leave = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', cancelled);
        const at = this.waiting.indexOf(turn);
        if (at >= 0) this.waiting.splice(at, 1);
      };
      const turn = (): void => {
        leave();
        resolve();
      };
      const cancelled = (): void => {
        leave();
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        leave();
        reject(
          new InfluxUnavailableError(
            `${this.maxQueries} InfluxDB queries were already running for ${this.queueTimeoutMs} ms`,
            'INFLUX_BUSY',
          ),
        );
      }, this.queueTimeoutMs);
      signal?.addEventListener('abort', cancelled, { once: true });
      this.waiting.push(turn);
    });
    return release;
  }

  /**
   * Runs InfluxQL statements and returns each statement's series. Asks for chunked results, so a
   * large answer streams in pieces; partial pieces of one series are joined back together.
   */
  async query(q: string, options: QueryOptions = {}): Promise<Series[][]> {
    const db = options.database ?? this.database;
    this.checkDatabase(db);
    const statements: Series[][] = [];
    const release = await this.querySlot(options.signal);
    try {
      await this.runQuery(
        q,
        db,
        (id, s) => {
          const list = (statements[id] ??= []);
          if (!s) return;
          const last = list[list.length - 1];
          if (last && last.name === s.name && sameTags(last.tags, s.tags)) {
            for (const row of s.values) last.values.push(row);
          } else {
            list.push({ ...s, values: [...s.values] });
          }
        },
        options.signal,
      );
    } finally {
      release();
    }
    for (let i = 0; i < statements.length; i++) statements[i] ??= [];
    return statements;
  }

  /**
   * Runs InfluxQL statements and hands each piece of a series to `onSeries` as it arrives: the
   * answer is read as a stream, one chunk (a line of JSON, at most `chunk_size` rows) at a time,
   * so a large result is never held as one text. Consecutive pieces of a series share name and
   * tags. `signal` cancels the query (the request is aborted, InfluxDB stops working on it) and
   * the promise rejects with the signal's reason.
   */
  async each(
    q: string,
    onSeries: (statementId: number, series: Series) => void,
    options: QueryOptions = {},
  ): Promise<void> {
    const db = options.database ?? this.database;
    this.checkDatabase(db);
    const release = await this.querySlot(options.signal);
    try {
      await this.runQuery(q, db, (id, s) => s && onSeries(id, s), options.signal);
    } finally {
      release();
    }
  }

  private async runQuery(
    q: string,
    db: string,
    onSeries: (statementId: number, series: Series | undefined) => void,
    caller: AbortSignal | undefined,
  ): Promise<void> {
    const body = new URLSearchParams({
      q,
      db,
      epoch: 'ms',
      chunked: 'true',
      chunk_size: '10000',
    });
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = caller ? AbortSignal.any([timeout, caller]) : timeout;
    const res = await this.request('/query', {
      method: 'POST',
      body: body.toString(),
      contentType: 'application/x-www-form-urlencoded',
      signal,
      caller,
    });
    const line = (text: string): void => {
      if (text.trim() === '') return;
      let chunk: { results?: ChunkResult[]; error?: string };
      try {
        chunk = JSON.parse(text) as typeof chunk;
      } catch {
        // A proxy's error page, or an answer cut short: the server is not answering as InfluxDB.
        throw new InfluxUnavailableError(
          `InfluxDB at ${this.url} answered with something that is not its JSON: ${excerpt(text, 200)}`,
        );
      }
      if (chunk.error) throw new InfluxRequestError(`InfluxDB: ${excerpt(chunk.error, 500)}`, 400);
      for (const result of chunk.results ?? []) {
        if (result.error) throw new InfluxRequestError(`InfluxDB: ${excerpt(result.error, 500)}`, 400);
        const id = result.statement_id ?? 0;
        if (!result.series?.length) onSeries(id, undefined);
        for (const s of result.series ?? []) onSeries(id, s);
      }
    };
    let pending = '';
    try {
      if (res.body) {
        const decoder = new TextDecoder();
        for await (const bytes of res.body as AsyncIterable<Uint8Array>) {
          pending += decoder.decode(bytes, { stream: true });
          let cut = pending.indexOf('\n');
          let from = 0;
          while (cut >= 0) {
            line(pending.slice(from, cut));
            from = cut + 1;
            cut = pending.indexOf('\n', from);
          }
          pending = pending.slice(from);
        }
        pending += decoder.decode();
      }
    } catch (err) {
      await res.body?.cancel().catch(() => undefined);
      if (err instanceof InfluxRequestError || err instanceof InfluxUnavailableError) throw err;
      // The body was cut off (timeout, connection reset) or the caller cancelled.
      throw this.failure(err, caller);
    }
    line(pending);
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
