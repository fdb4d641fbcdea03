/**
 * Anomalous results as bytes of InfluxDB's answer, and the two answers written from them without
 * an object, string or number per point: the REST list (`GET …/anomalies`) and the columns of
 * Grafana's anomalies frame. Both say exactly what the object reader (`ResultsReader.read`, whose
 * values went through fast-json-stringify or JSON.stringify) said: a cell whose JSON text is
 * already what those would write is copied; any other (an escaped string, a number in another
 * notation, a value of an unexpected type) is decoded and converted as the object reader did.
 *
 * The one assumption: InfluxDB writes a float as the shortest decimal that reads back as it (Go's
 * encoding/json and Rust's serde_json both do), so a plain decimal is JavaScript's text for it.
 */
import { cellValue, CellTable, isNull, JsonBytes } from '../../io/influx/index.js';

/** The order results of one time are listed in: entities as String#localeCompare sorts them, faster. */
export const entityOrder = new Intl.Collator().compare;

const SEVERITY_RANK: Record<string, number> = { none: 0, low: 1, medium: 2, high: 3, critical: 4 };

/** Whether a result of `severity` is below `min` (an anomalies query's minSeverity). */
export function belowSeverity(severity: string, min: string): boolean {
  return (SEVERITY_RANK[severity] ?? 0) < (SEVERITY_RANK[min] ?? 0);
}

/** The kept cells of a row, in CellTable order. */
export const ANOMALY_CELLS = [
  'time',
  'score',
  'threshold',
  'severity',
  'top_feature',
  'top_contribution',
  'model_version',
] as const;
const TIME = 0;
const SCORE = 1;
const THRESHOLD = 2;
const SEVERITY = 3;
const TOP = 4;
const CONTRIBUTION = 5;
const VERSION = 6;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * The value of a kept cell as the object reader had it: parsed; undefined when missing (a column
 * the answer lacked was `row[-1]`).
 */
function value(b: Uint8Array, s: number, e: number): unknown {
  return s === e ? undefined : cellValue(b, s, e);
}

function isTrue(b: Uint8Array, s: number, e: number): boolean {
  return e - s === 4 && b[s] === 0x74 && b[s + 1] === 0x72 && b[s + 2] === 0x75 && b[s + 3] === 0x65;
}

/** Whether the cell is a JSON number (`typeof value === 'number'`). */
function isNumber(b: Uint8Array, s: number, e: number): boolean {
  if (s === e) return false;
  const c = b[s]!;
  return c === MINUS || (c >= ZERO && c <= NINE);
}

/**
 * Whether `b[s, e)` is a number written as JavaScript writes it (`String(n)`): digits (no leading
 * zero), a point
 * and more digits not ending in 0, no exponent; an integer exact in a double, not -0; not below
 * 1e-6 or from 1e21 on (JavaScript writes those with an exponent). `integer` accepts integers only.
 */
function plainNumber(b: Uint8Array, s: number, e: number, integer = false): boolean {
  let i = s;
  if (b[i] === MINUS) i++;
  const digits = i;
  while (i < e && b[i]! >= ZERO && b[i]! <= NINE) i++;
  const whole = i - digits;
  // No digits, or a leading zero (JSON has none, but a version tag's text may: "007").
  if (whole === 0 || (whole > 1 && b[digits] === ZERO)) return false;
  if (i === e) return whole <= 15 && !(whole === 1 && b[digits] === ZERO && b[s] === MINUS);
  if (integer || b[i] !== DOT || whole > 21) return false;
  const fraction = ++i;
  while (i < e && b[i]! >= ZERO && b[i]! <= NINE) i++;
  if (i !== e || i === fraction || b[e - 1] === ZERO) return false;
  if (whole === 1 && b[digits] === ZERO) {
    let z = fraction;
    while (b[z] === ZERO) z++;
    if (z - fraction >= 6) return false;
  }
  return true;
}

/** Whether the cell is a string without escapes: JSON.stringify(JSON.parse(text)) is the text. */
function plainString(b: Uint8Array, s: number, e: number): boolean {
  if (e - s < 2 || b[s] !== QUOTE) return false;
  for (let i = s + 1; i < e - 1; i++) if (b[i] === BACKSLASH) return false;
  return true;
}

/** The time cell as a number (what sorting and the ISO text use): Number(value). */
function timeOf(b: Uint8Array, s: number, e: number): number {
  if (!plainNumber(b, s, e, true)) return Number(value(b, s, e));
  let i = s;
  const negative = b[i] === MINUS;
  if (negative) i++;
  let n = 0;
  for (; i < e; i++) n = 10 * n + (b[i]! - ZERO);
  return negative ? -n : n;
}

/** Whether the cell is a string holding a plain integer (a version tag: `"3"`). */
function quotedInteger(b: Uint8Array, s: number, e: number): boolean {
  return e - s >= 3 && b[s] === QUOTE && b[e - 1] === QUOTE && plainNumber(b, s + 1, e - 1, true);
}

/** The model version tag (`"3"`) as Number(value). */
function versionOf(b: Uint8Array, s: number, e: number): number {
  if (quotedInteger(b, s, e)) return timeOf(b, s + 1, e - 1);
  return Number(value(b, s, e));
}

/**
 * The severity of a row as the object reader had it, for minSeverity: String(value ?? 'none').
 * The five words InfluxDB normally holds are compared as bytes.
 */
const WORDS = ['none', 'low', 'medium', 'high', 'critical'].map((w) => [w, ascii(`"${w}"`)] as const);
function severityOf(b: Uint8Array, s: number, e: number): string {
  for (const [word, text] of WORDS)
    if (e - s === text.length) {
      let i = 0;
      while (i < text.length && b[s + i] === text[i]) i++;
      if (i === text.length) return word;
    }
  return String(value(b, s, e) ?? 'none');
}

/** Whether a row has the cell at `a` (not: a column the answer lacks, a < 0, or a missing cell). */
function present(cells: Int32Array, a: number): boolean {
  return a >= 0 && cells[a]! >= 0;
}

/**
 * Anomalous results of one detector as bytes (a CellTable of ANOMALY_CELLS), with each row's
 * entity and time, in the order InfluxDB answered them; `order()` gives the order `read` listed
 * them in. Read with `read`'s own query (not grouped by entity): InfluxDB answers the points of one
 * time in an order of its own, which differs between a grouped and an ungrouped query, and `read`
 * kept it for the points of one entity and time (one per model version).
 */
export class AnomalyRows {
  readonly cells = new CellTable(ANOMALY_CELLS.length);
  /** The entities of the rows, and their names as JSON. */
  readonly entities: string[] = [];
  readonly entityJson: Uint8Array[] = [];
  /** `,"entity":<name>,"score":`: what the REST answer writes between a row's time and score. */
  readonly entityKeys: Uint8Array[] = [];
  /** Entity cells seen (their text, by a hash of it), and the entity each one names. */
  private readonly seen = new Map<number, Array<{ text: Uint8Array; entity: number }>>();
  private entity = new Int32Array(1024);
  private time = new Float64Array(1024);
  private version = new Float64Array(1024);
  private ordered: Uint32Array | undefined;

  /**
   * @param wanted the entities to keep (undefined: all): a frame's entities, filtered here as
   *   they were from `read`'s objects, so the query stays `read`'s.
   */
  constructor(private readonly wanted?: readonly string[]) {}

  get rows(): number {
    return this.cells.rows;
  }

  /**
   * The index of the entity a row's entity cell names (String(value ?? ''), as `read` had it), -1
   * for one not wanted. A cell is hashed and compared as bytes; only a text not seen before is
   * decoded, so an answer costs a string per entity, not per point.
   */
  private entityIndex(b: Uint8Array, s: number, e: number): number {
    let h = 0x811c9dc5;
    for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    const known = this.seen.get(h);
    if (known)
      for (const k of known) {
        if (k.text.length !== e - s) continue;
        let i = 0;
        while (i < k.text.length && k.text[i] === b[s + i]) i++;
        if (i === k.text.length) return k.entity;
      }
    const name = String(value(b, s, e) ?? '');
    let entity = -1;
    if (!this.wanted || this.wanted.includes(name)) {
      entity = this.entities.indexOf(name);
      if (entity < 0) {
        entity = this.entities.push(name) - 1;
        this.entityJson.push(ascii(JSON.stringify(name)));
        this.entityKeys.push(ascii(`,"entity":${JSON.stringify(name)},"score":`));
      }
    }
    const seen = { text: b.slice(s, e), entity };
    if (known) known.push(seen);
    else this.seen.set(h, [seen]);
    return entity;
  }

  /**
   * Keeps a row of InfluxDB's answer, unless it is not anomalous (anomaly not `true`), of an
   * entity not wanted or below `minSeverity`: `at[k]` is where ANOMALY_CELLS[k]'s range is in
   * `cells` (< 0: not answered), `anomaly` and `entity` where those cells' are.
   */
  add(
    bytes: Uint8Array,
    cells: Int32Array,
    at: Int32Array,
    anomaly: number,
    entityAt: number,
    minSeverity: string | undefined,
  ): void {
    if (anomaly < 0 || !isTrue(bytes, cells[anomaly]!, cells[anomaly + 1]!)) return;
    const entity = present(cells, entityAt)
      ? this.entityIndex(bytes, cells[entityAt]!, cells[entityAt + 1]!)
      : this.entityIndex(bytes, 0, 0);
    if (entity < 0) return;
    const v = at[SEVERITY]!;
    if (minSeverity !== undefined) {
      const s = present(cells, v) ? cells[v]! : 0;
      const e = present(cells, v) ? cells[v + 1]! : 0;
      if (belowSeverity(severityOf(bytes, s, e), minSeverity)) return;
    }
    const row = this.cells.rows;
    if (row === this.time.length) {
      const time = new Float64Array(2 * row);
      time.set(this.time);
      this.time = time;
      const ent = new Int32Array(2 * row);
      ent.set(this.entity);
      this.entity = ent;
      const version = new Float64Array(2 * row);
      version.set(this.version);
      this.version = version;
    }
    const t = at[TIME]!;
    this.time[row] = present(cells, t) ? timeOf(bytes, cells[t]!, cells[t + 1]!) : Number.NaN;
    this.entity[row] = entity;
    const m = at[VERSION]!;
    this.version[row] = present(cells, m) ? versionOf(bytes, cells[m]!, cells[m + 1]!) : Number.NaN;
    this.cells.add(bytes, cells, at);
    this.ordered = undefined;
  }

  timeMs(row: number): number {
    return this.time[row]!;
  }

  entityOf(row: number): number {
    return this.entity[row]!;
  }

  /** The row's model version (the registry's id): Number(value) of its tag. */
  versionOf(row: number): number {
    return this.version[row]!;
  }

  /** The model versions (registry ids) the rows name. */
  versions(): Set<number> {
    const out = new Set<number>();
    for (let r = 0; r < this.rows; r++) out.add(this.version[r]!);
    return out;
  }

  /**
   * The rows oldest first, entities in entityOrder within a time, and otherwise as InfluxDB
   * answered them: the order `read` sorted its objects into (a stable sort).
   */
  order(): Uint32Array {
    if (this.ordered) return this.ordered;
    const names = this.entities;
    const byName = names.map((_, i) => i).sort((a, b) => entityOrder(names[a]!, names[b]!));
    // Names the collator holds equal share a rank: their points stay in the answer's order.
    const rank = new Int32Array(names.length);
    byName.forEach((e, r) => {
      const before = byName[r - 1];
      rank[e] = before !== undefined && entityOrder(names[before]!, names[e]!) === 0 ? rank[before]! : r;
    });
    const time = this.time;
    const entity = this.entity;
    const order = new Uint32Array(this.rows);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => time[a]! - time[b]! || rank[entity[a]!]! - rank[entity[b]!]! || a - b);
    this.ordered = order;
    return order;
  }
}

const DAY = 86_400_000;
/** The last day written: its `"YYYY-MM-DDT`, made once a day rather than per point. */
let dayCache: { day: number; text: Uint8Array } = { day: Number.NaN, text: new Uint8Array(0) };

/** `"${new Date(ms).toISOString()}"`, written as bytes (years 0 to 9999; any other as toISOString). */
function writeIso(out: JsonBytes, ms: number): void {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 253_402_300_800_000) {
    out.text(JSON.stringify(new Date(ms).toISOString()));
    return;
  }
  const day = Math.floor(ms / DAY);
  if (day !== dayCache.day)
    dayCache = { day, text: ascii(`"${new Date(day * DAY).toISOString().slice(0, 11)}`) };
  out.bytes(dayCache.text);
  // HH:MM:SS.mmmZ" as stores of digits: a call per part cost more than the rest of the row.
  let rest = ms - day * DAY;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  const to = out.room(14);
  let at = out.byteLength;
  to[at++] = ZERO + Math.floor(hours / 10);
  to[at++] = ZERO + (hours % 10);
  to[at++] = COLON;
  to[at++] = ZERO + Math.floor(minutes / 10);
  to[at++] = ZERO + (minutes % 10);
  to[at++] = COLON;
  to[at++] = ZERO + Math.floor(seconds / 10);
  to[at++] = ZERO + (seconds % 10);
  to[at++] = DOT;
  to[at++] = ZERO + Math.floor(milli / 100);
  to[at++] = ZERO + (Math.floor(milli / 10) % 10);
  to[at++] = ZERO + (milli % 10);
  to[at++] = 0x5a; // Z
  to[at++] = QUOTE;
  out.byteLength = at;
}

/**
 * Number(value) as JSON: fast-json-stringify's number for the REST answer (`strict`: NaN
 * throws, as its serializer did; ±Infinity is null), JSON.stringify's for a frame (null for both).
 */
function writeNumber(out: JsonBytes, b: Uint8Array, s: number, e: number, strict: boolean): void {
  if (plainNumber(b, s, e)) return out.copy(b, s, e);
  const v = value(b, s, e);
  const n = Number(v);
  if (Number.isNaN(n) && strict) throw new Error(`The value "${String(n)}" cannot be converted to a number.`);
  out.text(Number.isFinite(n) ? String(n) : 'null');
}

/** A number cell (`typeof value === 'number'`) as JSON: String(value), null beyond a double. */
function writeNumberCell(out: JsonBytes, b: Uint8Array, s: number, e: number): void {
  if (plainNumber(b, s, e)) return out.copy(b, s, e);
  const n = value(b, s, e) as number;
  out.text(Number.isFinite(n) ? String(n) : 'null');
}

/** String(value ?? fallback) as JSON; `fallback` is given as its JSON text. */
function writeString(out: JsonBytes, b: Uint8Array, s: number, e: number, fallback: Uint8Array): void {
  if (s === e || isNull(b, s, e)) out.bytes(fallback);
  else if (plainString(b, s, e)) out.copy(b, s, e);
  else out.text(JSON.stringify(String(value(b, s, e))));
}

/**
 * The model version (a tag: `"3"`) as fast-json-stringify's integer of Number(value), as the REST
 * answer's `modelVersion` was written: truncated; NaN and ±Infinity throw.
 */
function writeVersion(out: JsonBytes, b: Uint8Array, s: number, e: number): void {
  if (quotedInteger(b, s, e)) return out.copy(b, s + 1, e - 1);
  const n = Number(value(b, s, e));
  if (Number.isInteger(n)) return out.text(String(n));
  const whole = Math.trunc(n);
  if (!Number.isFinite(whole)) throw new Error(`The value "${String(n)}" cannot be converted to an integer.`);
  out.text(String(whole));
}

const K_TIME = ascii('{"time":');
const K_SEVERITY = ascii(',"severity":');
const K_TOP = ascii(',"topFeature":');
const K_CONTRIBUTION = ascii(',"topContribution":');
const K_VERSION = ascii(',"modelVersion":');
const K_THRESHOLD = ascii(',"threshold":');
const NONE = ascii('"none"');
const EMPTY = ascii('""');
const NULL = ascii('null');

/**
 * The REST answer (`Type.Array(Anomaly)`), as fast-json-stringify wrote it from the objects
 * `read` gave: the schema's required keys in its order, then its optional ones (left out where
 * the objects left them out).
 */
export function anomaliesJson(rows: AnomalyRows): Buffer {
  const out = new JsonBytes(Math.max(64, 2 * rows.cells.bytes.length + 160 * rows.rows));
  const t = rows.cells;
  const b = t.bytes;
  out.byte(0x5b);
  const order = rows.order();
  for (let i = 0; i < order.length; i++) {
    const r = order[i]!;
    if (i > 0) out.byte(0x2c);
    out.bytes(K_TIME);
    writeIso(out, rows.timeMs(r));
    out.bytes(rows.entityKeys[rows.entityOf(r)]!);
    writeNumber(out, b, t.start(r, SCORE), t.end(r, SCORE), true);
    out.bytes(K_SEVERITY);
    writeString(out, b, t.start(r, SEVERITY), t.end(r, SEVERITY), NONE);
    out.bytes(K_VERSION);
    writeVersion(out, b, t.start(r, VERSION), t.end(r, VERSION));
    // The optional keys after the required ones, as fast-json-stringify orders them.
    let s = t.start(r, TOP);
    let e = t.end(r, TOP);
    if (s < e && !isNull(b, s, e)) {
      out.bytes(K_TOP);
      writeString(out, b, s, e, NONE);
    }
    s = t.start(r, CONTRIBUTION);
    e = t.end(r, CONTRIBUTION);
    if (isNumber(b, s, e)) {
      out.bytes(K_CONTRIBUTION);
      writeNumberCell(out, b, s, e);
    }
    s = t.start(r, THRESHOLD);
    e = t.end(r, THRESHOLD);
    if (isNumber(b, s, e)) {
      out.bytes(K_THRESHOLD);
      writeNumberCell(out, b, s, e);
    }
    out.byte(0x7d);
  }
  out.byte(0x5d);
  return out.toBuffer();
}

/** The values of Grafana's anomalies frame, one JSON text per field (`a,b,c`, no brackets). */
export interface AnomalyFrameValues {
  time: JsonBytes;
  detector: JsonBytes;
  entity: JsonBytes;
  score: JsonBytes;
  severity: JsonBytes;
  topFeature: JsonBytes;
  modelVersion: JsonBytes;
  threshold: JsonBytes;
}

/**
 * The anomalies frame's columns from several detectors' rows: all of them oldest first, and
 * within a time in the order of `parts` and then of each one's `order()` (what a stable sort by
 * time of the detectors' lists, one after the other, gave). Values as JSON.stringify wrote the
 * objects': Number(time), the detector, the entity, Number(score), String(severity ?? 'none'),
 * String(top_feature) or '', threshold when a number, else null; and the model version as the
 * entity's own number (v1, v2, … as users see it), by `number` from the registry's id (null for
 * one not in the registry).
 */
export function anomalyFrameValues(
  parts: Array<{ detector: string; rows: AnomalyRows; number: (version: number) => number | undefined }>,
): AnomalyFrameValues {
  let total = 0;
  for (const p of parts) total += p.rows.rows;
  const part = new Int32Array(total);
  const row = new Uint32Array(total);
  const time = new Float64Array(total);
  let n = 0;
  parts.forEach((p, k) => {
    for (const r of p.rows.order()) {
      part[n] = k;
      row[n] = r;
      time[n++] = p.rows.timeMs(r);
    }
  });
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  order.sort((a, b) => time[a]! - time[b]! || a - b);
  const detectors = parts.map((p) => ascii(JSON.stringify(p.detector)));
  // Each part's version numbers as JSON, made once per version, not per point.
  const numbers = parts.map((p) => {
    const made = new Map<number, Uint8Array>();
    return (version: number): Uint8Array => {
      let text = made.get(version);
      if (!text) {
        const n = p.number(version);
        text = n === undefined ? NULL : ascii(String(n));
        made.set(version, text);
      }
      return text;
    };
  });
  const column = (bytesPerRow: number): JsonBytes => new JsonBytes(Math.max(64, bytesPerRow * total));
  const v: AnomalyFrameValues = {
    time: column(14),
    detector: column(12),
    entity: column(12),
    score: column(20),
    severity: column(8),
    topFeature: column(12),
    modelVersion: column(3),
    threshold: column(20),
  };
  const fields = Object.values(v);
  for (let i = 0; i < total; i++) {
    const g = order[i]!;
    const rows = parts[part[g]!]!.rows;
    const t = rows.cells;
    const b = t.bytes;
    const r = row[g]!;
    if (i > 0) for (const c of fields) c.byte(0x2c);
    let s = t.start(r, TIME);
    let e = t.end(r, TIME);
    if (plainNumber(b, s, e)) v.time.copy(b, s, e);
    else v.time.text(JSON.stringify(time[g]));
    v.detector.bytes(detectors[part[g]!]!);
    v.entity.bytes(rows.entityJson[rows.entityOf(r)]!);
    writeNumber(v.score, b, t.start(r, SCORE), t.end(r, SCORE), false);
    writeString(v.severity, b, t.start(r, SEVERITY), t.end(r, SEVERITY), NONE);
    writeString(v.topFeature, b, t.start(r, TOP), t.end(r, TOP), EMPTY);
    v.modelVersion.bytes(numbers[part[g]!]!(rows.versionOf(r)));
    s = t.start(r, THRESHOLD);
    e = t.end(r, THRESHOLD);
    if (isNumber(b, s, e)) writeNumberCell(v.threshold, b, s, e);
    else v.threshold.bytes(NULL);
  }
  return v;
}
