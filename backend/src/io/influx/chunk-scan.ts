/**
 * InfluxDB's chunked JSON answer read as bytes, for reads whose values go straight back out as
 * JSON (Grafana's frames): each line of the answer (`{"results":[…]}`, at most `chunk_size` rows)
 * is walked once, series headers (name, tags, columns) are parsed as JSON, and each row's cells
 * are handed over as byte ranges of the line, never decoded into strings, numbers or an array
 * per row. `JsonColumn` collects such cells as the text of a JSON array's elements.
 *
 * InfluxDB writes its JSON with Go's encoder: no whitespace, fields in struct order (a series'
 * columns before its values). Neither is relied on: whitespace is skipped, and values seen before
 * their columns are walked once the series' object is complete.
 */

/** A line that is not InfluxDB's JSON (a proxy's page, an answer cut short). */
export class ChunkSyntaxError extends Error {
  override readonly name = 'ChunkSyntaxError';
}

/** An error InfluxDB reported inside its answer (the whole answer's, or one statement's). */
export class ChunkQueryError extends Error {
  override readonly name = 'ChunkQueryError';
}

export interface SeriesHeader {
  statementId: number;
  name: string;
  tags?: Record<string, string>;
  columns: string[];
}

/**
 * One row of a series: `cells[2c]` and `cells[2c + 1]` are where column c's JSON value starts and
 * ends in `bytes` (the array is reused from row to row: read it before returning).
 */
export type RowHandler = (bytes: Uint8Array, cells: Int32Array) => void;

/** Told of each series piece; returns the handler of its rows, or undefined to skip them. */
export type SeriesHandler = (header: SeriesHeader) => RowHandler | undefined;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A walk over one line; `at` moves forward, every method leaves it past what it read. */
class Walk {
  at: number;
  private cells = new Int32Array(32);

  private readonly end: number;

  constructor(
    private readonly b: Uint8Array,
    private readonly onSeries: SeriesHandler,
  ) {
    this.at = 0;
    this.end = b.length;
  }

  fail(what: string): never {
    throw new ChunkSyntaxError(`${what} at byte ${this.at}`);
  }

  space(): void {
    const b = this.b;
    let c = b[this.at];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++this.at];
  }

  expect(byte: number): void {
    this.space();
    if (this.b[this.at] !== byte) this.fail(`expected '${String.fromCharCode(byte)}'`);
    this.at++;
  }

  /** Past a string starting at `at` (which must be its opening quote). */
  skipString(): void {
    const b = this.b;
    let i = this.at + 1;
    for (;;) {
      if (i >= this.end) this.fail('unterminated string');
      const c = b[i]!;
      if (c === QUOTE) break;
      i += c === BACKSLASH ? 2 : 1;
    }
    this.at = i + 1;
  }

  /** Past any JSON value. Scalars are checked only as far as where they end. */
  skipValue(): void {
    this.space();
    const b = this.b;
    const c = b[this.at];
    if (c === QUOTE) return this.skipString();
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const close = c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
      this.at++;
      this.space();
      if (b[this.at] === close) {
        this.at++;
        return;
      }
      for (;;) {
        if (c === OPEN_BRACE) {
          this.space();
          if (b[this.at] !== QUOTE) this.fail('expected a key');
          this.skipString();
          this.expect(COLON);
        }
        this.skipValue();
        this.space();
        const next = b[this.at];
        this.at++;
        if (next === close) return;
        if (next !== COMMA) this.fail('expected , or a closing bracket');
      }
    }
    const start = this.at;
    let i = start;
    while (i < this.end) {
      const d = b[i]!;
      if (d === COMMA || d === CLOSE_BRACKET || d === CLOSE_BRACE || d <= 0x20) break;
      i++;
    }
    if (i === start) this.fail('expected a value');
    this.at = i;
  }

  /** The JSON value at `at`, parsed (headers and messages: small). */
  parseValue(): unknown {
    this.space();
    const start = this.at;
    this.skipValue();
    try {
      return JSON.parse(decoder.decode(this.b.subarray(start, this.at)));
    } catch {
      return this.fail('malformed value');
    }
  }

  /** Calls `each(key)` for each key of the object at `at`, with `at` on the key's value. */
  object(each: (key: string) => void): void {
    this.expect(OPEN_BRACE);
    this.space();
    if (this.b[this.at] === CLOSE_BRACE) {
      this.at++;
      return;
    }
    for (;;) {
      this.space();
      if (this.b[this.at] !== QUOTE) this.fail('expected a key');
      const start = this.at;
      this.skipString();
      const key = decoder.decode(this.b.subarray(start + 1, this.at - 1));
      this.expect(COLON);
      each(key);
      this.space();
      const next = this.b[this.at];
      this.at++;
      if (next === CLOSE_BRACE) return;
      if (next !== COMMA) this.fail('expected , or }');
    }
  }

  /** Calls `each()` for each element of the array at `at`, with `at` on the element. */
  array(each: () => void): void {
    this.expect(OPEN_BRACKET);
    this.space();
    if (this.b[this.at] === CLOSE_BRACKET) {
      this.at++;
      return;
    }
    for (;;) {
      each();
      this.space();
      const next = this.b[this.at];
      this.at++;
      if (next === CLOSE_BRACKET) return;
      if (next !== COMMA) this.fail('expected , or ]');
    }
  }

  line(): void {
    this.object((key) => {
      if (key === 'results') this.array(() => this.result());
      else if (key === 'error') throw new ChunkQueryError(String(this.parseValue()));
      else this.skipValue();
    });
    this.space();
    if (this.at < this.end) this.fail('text after the answer');
  }

  private result(): void {
    let statementId: number | undefined;
    const later: number[] = [];
    let error: string | undefined;
    this.object((key) => {
      if (key === 'statement_id') statementId = Number(this.parseValue());
      else if (key === 'error') error = String(this.parseValue());
      else if (key === 'series') {
        // InfluxDB writes statement_id first: the series are walked as they are read. Otherwise
        // (statement_id later, or absent: 0) they are walked once the result is complete.
        if (statementId !== undefined) {
          const id = statementId;
          this.array(() => this.series(id));
        } else {
          this.space();
          later.push(this.at);
          this.skipValue();
        }
      } else this.skipValue();
    });
    if (error !== undefined) throw new ChunkQueryError(error);
    const after = this.at;
    for (const start of later) {
      this.at = start;
      this.array(() => this.series(statementId ?? 0));
    }
    this.at = after;
  }

  private series(statementId: number): void {
    let name = '';
    let tags: Record<string, string> | undefined;
    let columns: string[] | undefined;
    let values = -1;
    let walked = false;
    const header = (): SeriesHeader => ({ statementId, name, ...(tags ? { tags } : {}), columns: columns! });
    this.object((key) => {
      if (walked && (key === 'name' || key === 'tags' || key === 'columns'))
        this.fail(`a series' ${key} after its values`);
      if (key === 'name') name = String(this.parseValue());
      else if (key === 'tags') tags = this.parseValue() as Record<string, string>;
      else if (key === 'columns') columns = this.parseValue() as string[];
      else if (key === 'values' && Array.isArray(columns)) {
        // InfluxDB's order (name, tags, columns, values): the rows are walked as they are read.
        walked = true;
        const rows = this.onSeries(header());
        if (rows) this.rows(columns.length, rows);
        else this.skipValue();
      } else if (key === 'values') {
        this.space();
        values = this.at;
        this.skipValue();
      } else this.skipValue();
    });
    if (!Array.isArray(columns)) return this.fail('a series without columns');
    if (walked) return;
    const rows = this.onSeries(header());
    if (!rows || values < 0) return;
    const after = this.at;
    this.at = values;
    this.rows(columns.length, rows);
    this.at = after;
  }

  /**
   * The rows of `values` ([[cell, …], …]), each handed over as byte ranges. A loop of its own on
   * local variables, without a call per row or cell: it is the part of the answer that scales.
   */
  private rows(width: number, handle: RowHandler): void {
    if (this.cells.length < 2 * width) this.cells = new Int32Array(2 * width);
    const cells = this.cells;
    const b = this.b;
    const n = this.end;
    let i = this.at;
    const bad = (what: string): never => {
      this.at = i;
      return this.fail(what);
    };
    while (SPACE[b[i]!] === 1) i++;
    if (b[i++] !== OPEN_BRACKET) bad("expected '['");
    while (SPACE[b[i]!] === 1) i++;
    if (b[i] === CLOSE_BRACKET) {
      this.at = i + 1;
      return;
    }
    for (;;) {
      while (SPACE[b[i]!] === 1) i++;
      if (b[i++] !== OPEN_BRACKET) bad("expected '['");
      cells.fill(-1);
      while (SPACE[b[i]!] === 1) i++;
      if (b[i] === CLOSE_BRACKET) i++;
      else
        for (let c = 0; ; c++) {
          while (SPACE[b[i]!] === 1) i++;
          const start = i;
          const first = b[i];
          if (first === QUOTE) {
            i++;
            for (;;) {
              if (i >= n) bad('unterminated string');
              const d = b[i]!;
              if (d === QUOTE) break;
              i += d === BACKSLASH ? 2 : 1;
            }
            i++;
          } else if (first === OPEN_BRACE || first === OPEN_BRACKET) {
            this.at = i;
            this.skipValue();
            i = this.at;
          } else {
            while (i < n && SCALAR_END[b[i]!] === 0) i++;
            if (i === start) bad('expected a value');
          }
          if (c < width) {
            cells[2 * c] = start;
            cells[2 * c + 1] = i;
          }
          while (SPACE[b[i]!] === 1) i++;
          const next = b[i++];
          if (next === CLOSE_BRACKET) break;
          if (next !== COMMA) bad('expected , or ]');
        }
      handle(b, cells);
      while (SPACE[b[i]!] === 1) i++;
      const next = b[i++];
      if (next === CLOSE_BRACKET) break;
      if (next !== COMMA) bad('expected , or ]');
    }
    this.at = i;
  }
}

/** Whitespace JSON allows between tokens. */
const SPACE = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x0d, 0x09]) SPACE[c] = 1;
/** Bytes that end a number or literal: whitespace and the structural characters after a value. */
const SCALAR_END = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x0d, 0x09, COMMA, CLOSE_BRACKET, CLOSE_BRACE]) SCALAR_END[c] = 1;

/**
 * Walks one line of InfluxDB's chunked answer (the whole of `line`), calling `onSeries` for each
 * series piece and its row handler for each row. Throws ChunkQueryError for an error InfluxDB
 * reported, ChunkSyntaxError for a line that is not its JSON. A cell missing from a row has the
 * range (-1, -1).
 */
export function scanChunk(line: Uint8Array, onSeries: SeriesHandler): void {
  const walk = new Walk(line, onSeries);
  walk.space();
  if (walk.at >= line.length) return;
  walk.line();
}

const NULL = new Uint8Array([0x6e, 0x75, 0x6c, 0x6c]);

/**
 * Scratch arrays for the cell ranges of a column's current line, reused: a line's rows are walked
 * in one synchronous call, and the ranges are turned into bytes before the next line arrives, so
 * a few arrays serve every request in flight instead of an array per column per request (those,
 * growing and living as long as their request, cost the garbage collector more than the cells).
 */
const scratches: Int32Array[] = [];

/**
 * A column of JSON values kept as the text of an array's elements (`1,2.5,null`): cells of
 * InfluxDB's answer, never parsed. While a line is walked the column notes where its cells are;
 * when the next line starts (or the column is read) it copies them into one buffer of their exact
 * size, and lets go of the line. `nullAs` replaces a null (or missing) cell's text (`""` for a
 * string column that shows nothing).
 */
export class JsonColumn {
  /** The text so far, in pieces of one line each (commas between values included). */
  private readonly pieces: Uint8Array[] = [];
  private done = 0;
  /** The line whose cells are noted in `scratch` (start, end pairs), not yet copied. */
  private source: Uint8Array | undefined;
  private scratch: Int32Array | undefined;
  private noted = 0;
  private notedBytes = 0;
  /** Values in the column. */
  count = 0;
  /** Values that were not null. */
  present = 0;
  private readonly nullBytes: Uint8Array;

  constructor(nullAs = 'null') {
    this.nullBytes = nullAs === 'null' ? NULL : new TextEncoder().encode(nullAs);
  }

  /** Appends the JSON value `from[start, end)` (a cell's range; start < 0 is a missing cell). */
  add(from: Uint8Array, start: number, end: number): void {
    if (start < 0 || isNull(from, start, end)) {
      this.note(from, -1, -1, this.nullBytes.length);
      return;
    }
    this.note(from, start, end, end - start);
    this.present++;
  }

  private note(from: Uint8Array, start: number, end: number, bytes: number): void {
    if (from !== this.source) {
      this.flush();
      this.source = from;
      this.scratch = scratches.pop() ?? new Int32Array(8192);
    }
    let scratch = this.scratch!;
    if (this.noted + 2 > scratch.length) {
      const grown = new Int32Array(scratch.length * 2);
      grown.set(scratch);
      scratch = this.scratch = grown;
    }
    scratch[this.noted++] = start;
    scratch[this.noted++] = end;
    this.notedBytes += bytes + (this.count > 0 ? 1 : 0);
    this.count++;
  }

  /**
   * Copies the noted cells of the current line into a piece of their own and gives the scratch
   * back: call it once the answer is read (writing the column does it too).
   */
  flush(): void {
    const from = this.source;
    const scratch = this.scratch;
    if (!from || !scratch) return;
    const to = new Uint8Array(this.notedBytes);
    let at = 0;
    const nulls = this.nullBytes;
    for (let k = 0; k < this.noted; k += 2) {
      if (at > 0 || this.done > 0) to[at++] = COMMA;
      const start = scratch[k]!;
      if (start < 0) for (let i = 0; i < nulls.length; i++) to[at++] = nulls[i]!;
      else {
        // Cells are a few bytes: a loop beats subarray + set, which allocate a view per cell.
        const end = scratch[k + 1]!;
        for (let i = start; i < end; i++) to[at++] = from[i]!;
      }
    }
    this.pieces.push(to);
    this.done += to.length;
    scratches.push(scratch);
    this.source = undefined;
    this.scratch = undefined;
    this.noted = 0;
    this.notedBytes = 0;
  }

  /** Bytes of the elements' text, commas included. */
  get byteLength(): number {
    return this.done + this.notedBytes;
  }

  /** Copies the elements' text into `to` at `at`; returns where it ends. */
  writeTo(to: Uint8Array, at: number): number {
    this.flush();
    for (const piece of this.pieces) {
      to.set(piece, at);
      at += piece.length;
    }
    return at;
  }

  /** The elements' text, `a,b,c` (without brackets), as bytes. */
  get text(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    this.writeTo(out, 0);
    return out;
  }

  /** The values, parsed (tests, callers that need them as JavaScript values). */
  values(): unknown[] {
    return JSON.parse(`[${decoder.decode(this.text)}]`) as unknown[];
  }
}

/** Whether `from[start, end)` (a JSON value's range) is the literal null. */
export function isNull(from: Uint8Array, start: number, end: number): boolean {
  return end - start === 4 && from[start] === 0x6e && from[start + 1] === 0x75 && from[start + 2] === 0x6c;
}

/** The cell's text (a short value: a tag, a version), parsed as JSON. */
export function cellValue(from: Uint8Array, start: number, end: number): unknown {
  if (start < 0) return null;
  return JSON.parse(decoder.decode(from.subarray(start, end))) as unknown;
}

/**
 * JSON text written piece by piece into one buffer that doubles as it fills: the answer (or a
 * frame field's elements, `a,b,c`) built straight from cells of InfluxDB's answer and a few
 * constant pieces, with no string per value. `text` is for the rare value that has to be
 * re-encoded (a cell whose JSON is not already what JSON.stringify would write).
 */
export class JsonBytes {
  private buf: Uint8Array;
  /** Bytes written. */
  byteLength = 0;

  constructor(capacity = 4096) {
    // Not zeroed: every byte up to byteLength is written before it is read.
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /**
   * The buffer, with room for `n` more bytes from `byteLength` on: for a caller that writes a
   * value's bytes itself (a few stores, no call per byte), then moves `byteLength` past them.
   */
  room(n: number): Uint8Array {
    if (this.byteLength + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.byteLength + n));
      grown.set(this.buf.subarray(0, this.byteLength));
      this.buf = grown;
    }
    return this.buf;
  }

  /** Appends `from[start, end)`. */
  copy(from: Uint8Array, start: number, end: number): void {
    const to = this.room(end - start);
    let at = this.byteLength;
    // Cells are a few bytes: a loop beats subarray + set, which allocate a view per cell.
    for (let i = start; i < end; i++) to[at++] = from[i]!;
    this.byteLength = at;
  }

  /** Appends constant bytes (a key, a punctuation, a pre-encoded string). */
  bytes(piece: Uint8Array): void {
    this.copy(piece, 0, piece.length);
  }

  byte(c: number): void {
    this.room(1)[this.byteLength++] = c;
  }

  /** Appends a string as UTF-8 (the slow path: values re-encoded, not copied). */
  text(s: string): void {
    const to = this.room(3 * s.length);
    this.byteLength += encoder.encodeInto(s, to.subarray(this.byteLength)).written;
  }

  /** Copies the text into `to` at `at`; returns where it ends (as JsonColumn.writeTo). */
  writeTo(to: Uint8Array, at: number): number {
    to.set(this.buf.subarray(0, this.byteLength), at);
    return at + this.byteLength;
  }

  /** The text as a Buffer (a view of the bytes written, not a copy). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset, this.byteLength);
  }
}

/**
 * Rows of InfluxDB's answer kept as the bytes of a few chosen cells, for reads whose rows must be
 * put in another order before they are written out (results merged across entities by time): a
 * row's cells are copied once, next to each other, into one buffer that doubles as it fills, with
 * where each ends; nothing is decoded, and there is no object or array per row. A missing cell is
 * kept as an empty range (a JSON value is never empty).
 */
export class CellTable {
  private buf = new Uint8Array(1 << 16);
  private used = 0;
  /** ends[row * width + k]: where cell k of the row ends; it starts where the one before it ends. */
  private ends: Int32Array;
  /** Rows kept. */
  rows = 0;

  constructor(readonly width: number) {
    this.ends = new Int32Array(256 * width);
  }

  /**
   * Appends a row: kept cell k is the cell whose range is at `cells[at[k]]`, `cells[at[k] + 1]`
   * (a RowHandler's cells); `at[k] < 0` (a column the answer lacks) or a missing cell keeps nothing.
   */
  add(from: Uint8Array, cells: Int32Array, at: Int32Array): void {
    const width = this.width;
    if ((this.rows + 1) * width > this.ends.length) {
      const grown = new Int32Array(2 * this.ends.length);
      grown.set(this.ends);
      this.ends = grown;
    }
    let bytes = 0;
    for (let k = 0; k < width; k++) {
      const a = at[k]!;
      if (a >= 0 && cells[a]! >= 0) bytes += cells[a + 1]! - cells[a]!;
    }
    if (this.used + bytes > this.buf.length) {
      const grown = new Uint8Array(Math.max(2 * this.buf.length, this.used + bytes));
      grown.set(this.buf.subarray(0, this.used));
      this.buf = grown;
    }
    const to = this.buf;
    let used = this.used;
    const base = this.rows * width;
    for (let k = 0; k < width; k++) {
      const a = at[k]!;
      const start = a >= 0 ? cells[a]! : -1;
      if (start >= 0) {
        const end = cells[a + 1]!;
        for (let i = start; i < end; i++) to[used++] = from[i]!;
      }
      this.ends[base + k] = used;
    }
    this.used = used;
    this.rows++;
  }

  /** The bytes the cells are in (valid until the next add). */
  get bytes(): Uint8Array {
    return this.buf;
  }

  /** Where cell k of `row` starts in `bytes`. */
  start(row: number, k: number): number {
    const i = row * this.width + k;
    return i === 0 ? 0 : this.ends[i - 1]!;
  }

  /** Where cell k of `row` ends in `bytes` (start === end: the cell was missing). */
  end(row: number, k: number): number {
    return this.ends[row * this.width + k]!;
  }
}
