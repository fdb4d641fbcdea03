/**
 * InfluxDB's v1 HTTP API: /query (InfluxQL, chunked JSON) and /write (line protocol). It works on
 * InfluxDB 1.x, on 2.x through its v1 compatibility API (database = bucket, token as password) and
 * on 3.x. Errors are typed: a query InfluxDB rejects (4xx, or an error in the result) is an
 * InfluxRequestError; a server that is down or failing (connection error, 5xx) is InfluxUnavailableError.
 */

import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { excerpt } from '../excerpt.js';
import { ChunkQueryError, ChunkSyntaxError, scanChunk, type SeriesHandler } from './chunk-scan.js';
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

/** A kept-alive connection that turned out closed before the request was answered (retried once). */
class StaleConnection extends Error {
  override readonly name = 'StaleConnection';
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

/** Node's codes for a certificate it does not trust (tls's verify errors and the name check). */
const UNTRUSTED_CERTIFICATE =
  /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|CERT_|ERR_TLS_CERT_ALTNAME_INVALID)/;

/** A connection that failed (refused, reset, no such host, an untrusted certificate) as the error the service maps. */
function unreachable(url: string, err: unknown): InfluxUnavailableError {
  const e = err as { code?: string; message?: string };
  // An InfluxDB behind an internal CA is the usual cause; the fix is Node's own setting, which
  // every outbound connection of the process (InfluxDB, Alertmanager, Grafana) then trusts.
  if (e.code !== undefined && UNTRUSTED_CERTIFICATE.test(e.code)) {
    return new InfluxUnavailableError(
      `InfluxDB at ${url} is unreachable: its TLS certificate is not trusted (${e.code}: ${e.message ?? ''}); ` +
        "if it is signed by your own CA, point NODE_EXTRA_CA_CERTS at that CA's PEM file and restart",
    );
  }
  return new InfluxUnavailableError(
    `InfluxDB at ${url} is unreachable (${e.code ?? e.message ?? String(err)})`,
  );
}

/** One HTTP request to InfluxDB, as the client sends it. */
interface InfluxRequest {
  method: string;
  body?: string;
  contentType?: string;
  /** The caller's cancel: the request is aborted and the call rejects with the signal's reason. */
  caller?: AbortSignal | undefined;
  /**
   * Takes a 2xx answer's body as it arrives, piece by piece (it may throw: the request is then
   * aborted and the call rejects with that error). Without it the body is collected as text.
   */
  onData?: (bytes: Buffer) => void;
}

/** What came back: status, headers and, unless the body went to `onData`, its text. */
interface InfluxAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
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
  private readonly secure: boolean;
  /**
   * Connections kept open between requests: a new TCP (or TLS) connection per query cost more
   * than the query on a busy loopback. Idle ones do not keep the process alive (Node unrefs them).
   */
  private readonly agent: HttpAgent;

  constructor(options: InfluxV1Options) {
    this.url = options.url.replace(/\/+$/, '');
    this.secure = this.url.startsWith('https:');
    this.agent = this.secure
      ? new HttpsAgent({ keepAlive: true, scheduling: 'lifo' })
      : new HttpAgent({ keepAlive: true, scheduling: 'lifo' });
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

  private async request(path: string, init: InfluxRequest): Promise<InfluxAnswer> {
    const started = performance.now();
    const operation = path.startsWith('/write') ? 'write' : path.startsWith('/query') ? 'query' : 'ping';
    try {
      const answer = await this.send(path, init);
      this.observe?.(operation, (performance.now() - started) / 1000, false);
      return answer;
    } catch (err) {
      this.observe?.(operation, (performance.now() - started) / 1000, true);
      throw err;
    }
  }

  /**
   * One request, with its answer's status checked: a 5xx is InfluxUnavailableError, a 4xx
   * InfluxRequestError with InfluxDB's own message.
   */
  private async send(path: string, init: InfluxRequest): Promise<InfluxAnswer> {
    let answer: InfluxAnswer;
    try {
      answer = await this.exchange(path, init);
    } catch (err) {
      // A kept-alive connection InfluxDB (or a proxy) closed while it sat idle fails as soon as it
      // is written to, before anything was answered: tried once more on a new connection. Queries
      // and writes are both safe to repeat (a point written twice is the same point).
      if (!(err instanceof StaleConnection)) throw err;
      answer = await this.exchange(path, init, false);
    }
    if (answer.status >= 500) {
      throw new InfluxUnavailableError(
        `InfluxDB at ${this.url} answered ${answer.status}: ${excerpt(answer.text, 300)}`,
      );
    }
    if (answer.status >= 400) {
      let message = answer.text;
      try {
        message = (JSON.parse(answer.text) as { error?: string }).error ?? answer.text;
      } catch {
        // not JSON
      }
      throw new InfluxRequestError(
        `InfluxDB refused the request (${answer.status}): ${excerpt(message, 500)}`,
        answer.status,
      );
    }
    return answer;
  }

  /**
   * The HTTP exchange, over the client's kept-alive connections (node:http: fetch cost about
   * 0.7 ms of the event loop per query in its streams and promise machinery, more than parsing a
   * host's day of results). `timeoutMs` covers the whole exchange, body included; the caller's
   * signal aborts it. Uncompressed: InfluxDB compressing every answer and the service inflating
   * it cost both of them CPU per query (about a tenth of a Grafana query's) to save bytes on what
   * is usually a local network.
   */
  private exchange(path: string, init: InfluxRequest, retry = true): Promise<InfluxAnswer> {
    return new Promise<InfluxAnswer>((resolve, reject) => {
      const caller = init.caller;
      if (caller?.aborted) {
        reject(caller.reason);
        return;
      }
      const headers: Record<string, string> = { 'Accept-Encoding': 'identity', Accept: 'application/json' };
      if (this.auth) headers.Authorization = this.auth;
      if (init.contentType) headers['Content-Type'] = init.contentType;
      if (init.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(init.body));
      let done = false;
      let answered = false;
      let req: ClientRequest | undefined;
      const finish = (err: unknown, answer?: InfluxAnswer): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        caller?.removeEventListener('abort', cancelled);
        if (err !== undefined) {
          req?.destroy();
          reject(err);
        } else resolve(answer!);
      };
      const timer = setTimeout(
        () =>
          finish(
            new InfluxUnavailableError(
              `InfluxDB at ${this.url} did not answer within ${this.timeoutMs} ms`,
              'INFLUX_TIMEOUT',
            ),
          ),
        this.timeoutMs,
      );
      const cancelled = (): void => finish(caller!.reason);
      caller?.addEventListener('abort', cancelled, { once: true });
      try {
        req = (this.secure ? httpsRequest : httpRequest)(`${this.url}${path}`, {
          method: init.method,
          headers,
          agent: this.agent,
        });
      } catch (err) {
        finish(unreachable(this.url, err));
        return;
      }
      const sent = req;
      sent.on('error', (err: NodeJS.ErrnoException) => {
        if (done) return;
        if (retry && !answered && sent.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          finish(new StaleConnection());
          return;
        }
        finish(unreachable(this.url, err));
      });
      sent.on('response', (res: IncomingMessage) => {
        answered = true;
        const status = res.statusCode ?? 0;
        const stream = status < 400 ? init.onData : undefined;
        const pieces: Buffer[] = [];
        res.on('data', (bytes: Buffer) => {
          if (done) return;
          if (!stream) pieces.push(bytes);
          else
            try {
              stream(bytes);
            } catch (err) {
              finish(err);
            }
        });
        res.on('end', () =>
          finish(undefined, { status, headers: res.headers, text: Buffer.concat(pieces).toString('utf8') }),
        );
        // The body cut off (connection reset, InfluxDB restarted mid-answer).
        const cut = (): void =>
          finish(new InfluxUnavailableError(`InfluxDB at ${this.url} closed the connection mid-answer`));
        res.on('error', cut);
        res.on('close', () => {
          if (!res.complete) cut();
        });
      });
      sent.end(init.body);
    });
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
    const answer = await this.request('/ping', { method: 'GET' });
    const version = answer.headers['x-influxdb-version'];
    return (Array.isArray(version) ? version[0] : version) ?? 'unknown';
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

  /**
   * Runs InfluxQL statements and hands each series piece's header to `onSeries` and its rows, as
   * byte ranges of InfluxDB's answer, to the handler it returns (chunk-scan.ts): for reads whose
   * values go back out as JSON unchanged, nothing is decoded per row. Cancelling works as in `each`.
   */
  async scan(q: string, onSeries: SeriesHandler, options: QueryOptions = {}): Promise<void> {
    const db = options.database ?? this.database;
    this.checkDatabase(db);
    const release = await this.querySlot(options.signal);
    try {
      await this.runLines(q, db, options.signal, (line) => {
        try {
          scanChunk(line, onSeries);
        } catch (err) {
          if (err instanceof ChunkQueryError)
            throw new InfluxRequestError(`InfluxDB: ${excerpt(err.message, 500)}`, 400);
          if (err instanceof ChunkSyntaxError) throw this.notJson(line.toString('utf8'));
          throw err;
        }
      });
    } finally {
      release();
    }
  }

  /** A proxy's error page, or an answer cut short: the server is not answering as InfluxDB. */
  private notJson(text: string): InfluxUnavailableError {
    return new InfluxUnavailableError(
      `InfluxDB at ${this.url} answered with something that is not its JSON: ${excerpt(text, 200)}`,
    );
  }

  private async runQuery(
    q: string,
    db: string,
    onSeries: (statementId: number, series: Series | undefined) => void,
    caller: AbortSignal | undefined,
  ): Promise<void> {
    await this.runLines(q, db, caller, (bytes) => {
      const text = bytes.toString('utf8');
      let chunk: { results?: ChunkResult[]; error?: string };
      try {
        chunk = JSON.parse(text) as typeof chunk;
      } catch {
        throw this.notJson(text);
      }
      if (chunk.error) throw new InfluxRequestError(`InfluxDB: ${excerpt(chunk.error, 500)}`, 400);
      for (const result of chunk.results ?? []) {
        if (result.error) throw new InfluxRequestError(`InfluxDB: ${excerpt(result.error, 500)}`, 400);
        const id = result.statement_id ?? 0;
        if (!result.series?.length) onSeries(id, undefined);
        for (const s of result.series ?? []) onSeries(id, s);
      }
    });
  }

  /**
   * Sends a query and hands each line of the chunked answer (one chunk: at most `chunk_size` rows)
   * to `onLine` as it completes, as bytes: lines are cut at newline bytes, which UTF-8 never uses
   * inside a character, so a character split between two TCP segments is whole in its line.
   */
  private async runLines(
    q: string,
    db: string,
    caller: AbortSignal | undefined,
    onLine: (line: Buffer) => void,
  ): Promise<void> {
    const body = new URLSearchParams({ q, db, epoch: 'ms', chunked: 'true', chunk_size: '10000' });
    // The start of a line not yet complete, in the pieces it came in (joined once, when it is).
    const pending: Buffer[] = [];
    const line = (bytes: Buffer): void => {
      let from = 0;
      while (from < bytes.length && bytes[from]! <= 0x20) from++;
      if (from < bytes.length) onLine(from > 0 ? bytes.subarray(from) : bytes);
    };
    await this.request('/query', {
      method: 'POST',
      body: body.toString(),
      contentType: 'application/x-www-form-urlencoded',
      caller,
      onData: (bytes) => {
        let from = 0;
        let cut = bytes.indexOf(0x0a);
        while (cut >= 0) {
          const piece = bytes.subarray(from, cut);
          if (pending.length > 0) {
            pending.push(piece);
            line(Buffer.concat(pending.splice(0)));
          } else line(piece);
          from = cut + 1;
          cut = bytes.indexOf(0x0a, from);
        }
        if (from < bytes.length) pending.push(bytes.subarray(from));
      },
    });
    if (pending.length > 0) line(Buffer.concat(pending));
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

  /** Closes the kept-alive connections (a request after this opens new ones). */
  close(): void {
    this.agent.destroy();
  }

  /** CREATE DATABASE (idempotent in InfluxDB). */
  async createDatabase(name = this.database): Promise<void> {
    const escaped = `"${name.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
    await this.query(`CREATE DATABASE ${escaped}`, { database: name });
  }
}
