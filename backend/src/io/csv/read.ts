import { readFile } from 'node:fs/promises';
import type { Matrix } from '../../engine/index.js';
import { CsvError } from './errors.js';
import { plainDecimal } from './number.js';
import { parseTimestamp } from './timestamp.js';
import { tokenizeCsv } from './tokenize.js';

/** Column names taken as the row's time, in the order they are looked for (Telegraf and InfluxDB export `time`). */
export const TIMESTAMP_COLUMNS = ['timestamp', 'time', '_time'] as const;

export interface CsvReadOptions {
  /**
   * The time column, by name; it must exist. Default: the first of TIMESTAMP_COLUMNS present
   * (case-insensitive), or none.
   */
  timeColumn?: string;
  /**
   * A text column naming what each row is about (a host, a container): not a feature. Its value is
   * kept per row in `entities`, and time order is judged within each value.
   */
  entityColumn?: string;
  /**
   * What to say after "column 'x' is text" or "column 'x' holds times" when a whole column is not
   * numbers: the CLI names its flags here. Default: that it is not a metric.
   */
  columnHint?: (column: string, kind: 'text' | 'time') => string;
  /** A column of 0/1 ground truth; excluded from the features. Must exist when given, unless `labelOptional`. */
  labelColumn?: string;
  /** A file without the label column is read without labels (a training file often has none). */
  labelOptional?: boolean;
  /** Columns that are not features (tags such as `host`); each must exist. */
  ignoreColumns?: readonly string[];
  /** Read only these feature columns (each must exist); the others are skipped unread. */
  columns?: readonly string[];
  /** Empty cells become NaN instead of an error (validation and causal imputation handle them). */
  allowMissing?: boolean;
  /** Cells that are not numbers become NaN and are counted in `nonNumeric` instead of an error (validation). */
  lenient?: boolean;
}

/** A CSV of metrics: one row per moment, numeric feature columns, optionally a time and a label. */
export interface MetricsTable {
  file: string;
  header: string[];
  /** Name of the time column as it appears in the header, if the file has one. */
  timestampColumn?: string;
  /** The time cells as written, so outputs can echo them verbatim. */
  timestampRaw?: string[];
  /** The same times as epoch milliseconds (UTC). */
  timeMs?: Float64Array;
  featureNames: string[];
  matrix: Matrix;
  labels?: Uint8Array;
  /** 1-based file line of each data row, for messages about a row. */
  lines: Uint32Array;
  /** With `lenient`: per feature column, the cells that were not numbers. */
  nonNumeric?: number[];
  /** Name of the entity column, when asked for. */
  entityColumn?: string;
  /** Each row's entity (the cell as written, trimmed), with `entityColumn`. */
  entities?: string[];
  /**
   * Rows whose time repeats the previous row's, steps back, or is empty, within each entity; they
   * are kept in file order (an empty time takes the previous row's), and `describeTimeIssues` words
   * them as warnings. Empty when the times increase, or without a time column.
   */
  timeIssues: TimeIssue[];
}

/**
 * One problem with the times, in the order of the file. A run of rows with the same time is one
 * issue (`rows` of them, the first repeat at `line`, the last at `lastLine`).
 */
export interface TimeIssue {
  kind: 'repeated' | 'backward' | 'missing';
  /** File line of the (first) row concerned. */
  line: number;
  /** How many rows the issue covers: a run of repeats or of empty times. */
  rows: number;
  lastLine: number;
  /** The time as written ('' when missing). */
  raw: string;
  /** The row before it in time order of the same entity: its line and time as written. */
  previousLine?: number;
  previousRaw?: string;
  /** For `backward`: how far back, in ms. */
  backMs?: number;
  entity?: string;
}

/** Reads a metrics CSV from disk. A missing or unreadable file is a CsvError naming it. */
export async function readMetricsCsv(file: string, options: CsvReadOptions = {}): Promise<MetricsTable> {
  return parseMetricsCsv(await readText(file), file, options);
}

async function readText(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`;
    throw new CsvError(file, why);
  }
  // A binary file (an archive, a model file given as data) is named as such, not parsed into
  // columns whose names would be its bytes quoted back.
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new CsvError(file, `not a text file (a NUL byte at byte ${nul + 1}): a CSV is text`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new CsvError(file, 'not UTF-8 text: save the CSV as UTF-8');
  }
}

/**
 * Parses metrics CSV text. Every column is a numeric feature except the time column, the label
 * column and ignored columns; a cell that is not a number is an error that names its line and
 * column, because silently dropping it would train on different data than the user thinks.
 */
export function parseMetricsCsv(text: string, file: string, options: CsvReadOptions = {}): MetricsTable {
  // Each record is turned into numbers as the tokenizer yields it and then dropped: keeping every
  // cell's string until the end made a 26 MB file cost more in garbage collection than in parsing.
  let table: TableBuilder | undefined;
  tokenizeCsv(text, (fields, line) => {
    if (table === undefined) table = new TableBuilder(fields, text, file, options);
    else table.add(fields, line);
  });
  if (table === undefined) throw new CsvError(file, 'the file is empty: a header row is needed');
  return table.finish();
}

/** The columns' roles, known from the header, and the table filled one record at a time. */
class TableBuilder {
  private readonly names: string[];
  private readonly featureIndex: number[];
  private readonly labelIndex: number;
  private readonly timeIndex: number;
  private readonly entityIndex: number;
  private readonly cols: number;
  private rows = 0;
  private data: Float64Array;
  private readonly lineOf: number[] = [];
  private readonly labels: number[] | undefined;
  private readonly nonNumeric: number[] | undefined;
  private readonly timestampRaw: string[] | undefined;
  private readonly timeMs: number[] | undefined;
  private readonly entities: string[] | undefined;

  constructor(
    headerFields: string[],
    private readonly text: string,
    private readonly file: string,
    private readonly options: CsvReadOptions,
  ) {
    const names = (this.names = headerFields.map((f) => f.trim()));
    const seen = new Set<string>();
    names.forEach((name, i) => {
      if (name === '') throw new CsvError(file, `header column ${i + 1} has no name`, 1);
      if (seen.has(name)) throw new CsvError(file, `column '${name}' appears twice in the header`, 1);
      seen.add(name);
    });
    const columnIndex = (name: string, role: string): number => {
      const i = names.indexOf(name);
      if (i < 0) throw new CsvError(file, `no ${role} column '${name}' (columns: ${names.join(', ')})`, 1);
      return i;
    };
    const labelIndex = (this.labelIndex =
      options.labelColumn === undefined || (options.labelOptional && !names.includes(options.labelColumn))
        ? -1
        : columnIndex(options.labelColumn, 'label'));
    const ignored = new Set((options.ignoreColumns ?? []).map((name) => columnIndex(name, 'ignored')));
    const timeIndex = (this.timeIndex =
      options.timeColumn !== undefined
        ? columnIndex(options.timeColumn, 'time')
        : names.findIndex((n) => (TIMESTAMP_COLUMNS as readonly string[]).includes(n.toLowerCase())));
    const entityIndex = (this.entityIndex =
      options.entityColumn === undefined ? -1 : columnIndex(options.entityColumn, 'entity'));
    const roles: Array<[number, string]> = [
      [timeIndex, 'the time'],
      [entityIndex, 'the entity'],
      [labelIndex, 'the label'],
    ];
    roles.forEach(([a, roleA], k) => {
      const clash = roles.slice(k + 1).find(([b]) => a >= 0 && b === a);
      if (clash) throw new CsvError(file, `column '${names[a]}' cannot be both ${roleA} and ${clash[1]}`, 1);
    });
    this.featureIndex = options.columns
      ? options.columns.map((name) => columnIndex(name, 'requested'))
      : names
          .map((_, i) => i)
          .filter((i) => i !== labelIndex && i !== timeIndex && i !== entityIndex && !ignored.has(i));
    if (this.featureIndex.length === 0) {
      throw new CsvError(
        file,
        'no feature columns: every column is the time, the entity, the label or ignored',
        1,
      );
    }
    this.cols = this.featureIndex.length;
    // Room for one record per line break, an upper bound on the records: no growing and copying.
    let lineBreaks = 1;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineBreaks++;
    this.data = new Float64Array(lineBreaks * this.cols);
    this.labels = labelIndex >= 0 ? [] : undefined;
    this.nonNumeric = options.lenient ? new Array<number>(this.cols).fill(0) : undefined;
    this.timestampRaw = timeIndex >= 0 ? [] : undefined;
    this.timeMs = timeIndex >= 0 ? [] : undefined;
    this.entities = entityIndex >= 0 ? [] : undefined;
  }

  add(fields: string[], line: number): void {
    const { file, names, cols, featureIndex, data, nonNumeric, options } = this;
    if (fields.length !== names.length) {
      throw new CsvError(file, `${fields.length} fields, the header has ${names.length}`, line);
    }
    const r = this.rows;
    for (let c = 0; c < cols; c++) {
      const i = featureIndex[c]!;
      if (nonNumeric) {
        const cell = fields[i]!.trim();
        const v = cell === '' ? Number.NaN : Number(cell);
        if (cell !== '' && !Number.isFinite(v) && !/^(nan|null|na)$/i.test(cell)) nonNumeric[c]!++;
        data[r * cols + c] = Number.isFinite(v) ? v : Number.NaN;
      } else {
        try {
          data[r * cols + c] = numberCell(fields[i]!, file, line, names[i]!, options.allowMissing === true);
        } catch (err) {
          throw this.notNumeric(i, line) ?? err;
        }
      }
    }
    if (this.labels) {
      const li = this.labelIndex;
      const v = numberCell(fields[li]!, file, line, names[li]!, false);
      if (v !== 0 && v !== 1)
        throw new CsvError(file, `label '${fields[li]}' is not 0 or 1`, line, names[li]);
      this.labels.push(v);
    }
    if (this.entities) this.entities.push(fields[this.entityIndex]!.trim());
    if (this.timestampRaw && this.timeMs) {
      const raw = fields[this.timeIndex]!;
      const t = raw.trim() === '' ? Number.NaN : parseTimestamp(raw);
      if (Number.isNaN(t) && raw.trim() !== '') {
        throw new CsvError(
          file,
          `'${raw}' is not a timestamp (ISO 8601 or epoch seconds/milliseconds)`,
          line,
          names[this.timeIndex],
        );
      }
      this.timestampRaw.push(raw);
      this.timeMs.push(t);
    }
    this.lineOf.push(line);
    this.rows++;
  }

  /**
   * A column with no number in it is no metric with a bad cell: say what it looks like instead.
   * Only on the way to an error, so reading the file again for the column's cells costs nothing
   * that matters.
   */
  private notNumeric(i: number, line: number): CsvError | undefined {
    let numbers = 0;
    let times = 0;
    let filled = 0;
    let header = true;
    tokenizeCsv(this.text, (fields) => {
      if (header) return void (header = false);
      const cell = (fields[i] ?? '').trim();
      if (cell === '') return;
      filled++;
      // Number-like, even when refused (Infinity, 0x10, NaN): a bad cell of a numeric column.
      if (!Number.isNaN(Number(cell)) || /^(nan|null|na|[+-]?inf(inity)?)$/i.test(cell)) numbers++;
      else if (!Number.isNaN(parseTimestamp(cell))) times++;
    });
    if (numbers > 0 || filled === 0) return undefined;
    const kind = times === filled ? 'time' : 'text';
    const name = this.names[i]!;
    const hint = this.options.columnHint?.(name, kind) ?? 'not a metric';
    return new CsvError(
      this.file,
      `column '${name}' ${kind === 'time' ? 'holds times' : 'is text'}: ${hint}`,
      line,
      name,
    );
  }

  finish(): MetricsTable {
    const { file, names, rows, cols } = this;
    if (rows === 0) throw new CsvError(file, 'no data rows after the header');
    const data = this.data.length === rows * cols ? this.data : this.data.slice(0, rows * cols);
    const timeMs = this.timeMs ? Float64Array.from(this.timeMs) : undefined;
    const lines = Uint32Array.from(this.lineOf);
    const { entities, timestampRaw } = this;
    const timeIssues = timestampRaw && timeMs ? checkTimes(timestampRaw, timeMs, lines, entities) : [];
    return {
      file,
      header: names,
      timeIssues,
      ...(entities ? { entityColumn: names[this.entityIndex]!, entities } : {}),
      ...(timestampRaw ? { timestampColumn: names[this.timeIndex]!, timestampRaw, timeMs } : {}),
      featureNames: this.featureIndex.map((i) => names[i]!),
      matrix: { rows, cols, data },
      ...(this.labels ? { labels: Uint8Array.from(this.labels) } : {}),
      lines,
      ...(this.nonNumeric ? { nonNumeric: this.nonNumeric } : {}),
    };
  }
}

/**
 * Finds, within each entity, rows whose time repeats the previous row's, steps back, or is empty,
 * and gives each empty time the previous row's (or, before any, the next known one), so every row
 * keeps its place in the file and has a time. A run of equal or empty times is one issue.
 */
function checkTimes(
  raw: string[],
  timeMs: Float64Array,
  lines: Uint32Array,
  entities: string[] | undefined,
): TimeIssue[] {
  const issues: TimeIssue[] = [];
  const last = new Map<string, { row: number; issue?: TimeIssue }>();
  const pending = new Map<string, number[]>(); // rows with no time before the entity's first time
  for (let r = 0; r < raw.length; r++) {
    const entity = entities ? entities[r]! : '';
    const prev = last.get(entity);
    const of = entities ? { entity } : {};
    if (Number.isNaN(timeMs[r]!)) {
      if (prev === undefined) {
        const waiting = pending.get(entity) ?? [];
        waiting.push(r);
        pending.set(entity, waiting);
        continue;
      }
      timeMs[r] = timeMs[prev.row]!;
      if (prev.issue?.kind === 'missing') extend(prev.issue, lines[r]!);
      else {
        const issue: TimeIssue = {
          kind: 'missing',
          line: lines[r]!,
          rows: 1,
          lastLine: lines[r]!,
          raw: '',
          previousLine: lines[prev.row]!,
          previousRaw: raw[prev.row]!,
          ...of,
        };
        issues.push(issue);
        prev.issue = issue;
      }
      continue;
    }
    const waiting = pending.get(entity);
    if (waiting) {
      // Empty times before the first one: they take the first, in file order.
      for (const w of waiting) timeMs[w] = timeMs[r]!;
      issues.push({
        kind: 'missing',
        line: lines[waiting[0]!]!,
        rows: waiting.length,
        lastLine: lines[waiting[waiting.length - 1]!]!,
        raw: '',
        ...of,
      });
      pending.delete(entity);
    }
    let issue: TimeIssue | undefined;
    if (prev !== undefined) {
      const step = timeMs[r]! - timeMs[prev.row]!;
      if (step === 0 && prev.issue?.kind === 'repeated' && prev.issue.raw === raw[r]) {
        extend(prev.issue, lines[r]!);
        issue = prev.issue;
      } else if (step <= 0) {
        issue = {
          kind: step === 0 ? 'repeated' : 'backward',
          line: lines[r]!,
          rows: 1,
          lastLine: lines[r]!,
          raw: raw[r]!,
          previousLine: lines[prev.row]!,
          previousRaw: raw[prev.row]!,
          ...(step < 0 ? { backMs: -step } : {}),
          ...of,
        };
        issues.push(issue);
      }
    }
    last.set(entity, { row: r, ...(issue ? { issue } : {}) });
  }
  for (const [entity, waiting] of pending) {
    // An entity with no time at all: nothing to take, so its rows keep the order of the file.
    for (const w of waiting) timeMs[w] = Number.NaN;
    issues.push({
      kind: 'missing',
      line: lines[waiting[0]!]!,
      rows: waiting.length,
      lastLine: lines[waiting[waiting.length - 1]!]!,
      raw: '',
      ...(entities ? { entity } : {}),
    });
  }
  return issues.sort((a, b) => a.line - b.line);
}

function extend(issue: TimeIssue, line: number): void {
  issue.rows++;
  issue.lastLine = line;
}

/** A duration in the largest whole unit that fits: "55 minutes", "1 hour", "3 s". */
function duration(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms === size ? '' : 's'}`;
  }
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} minutes`;
  return `${ms} ms`;
}

/**
 * The time issues of a table as warnings, one line each, naming the file, line and column: the
 * first `limit`, then one line counting the rest (a file with a clock that ticks in seconds could
 * otherwise print a line per row).
 */
export function describeTimeIssues(table: MetricsTable, limit = 5): string[] {
  const column = table.timestampColumn ?? 'timestamp';
  const out = table.timeIssues.slice(0, limit).map((issue) => {
    const where = `${table.file}, line ${issue.line}, column '${column}'`;
    const entity = issue.entity !== undefined ? ` (${table.entityColumn} '${issue.entity}')` : '';
    const more = issue.rows > 1 ? `, ${issue.rows} rows up to line ${issue.lastLine}` : '';
    switch (issue.kind) {
      case 'repeated':
        return `${where}: '${issue.raw}' repeats the time of line ${issue.previousLine}${entity}${more}: kept in file order`;
      case 'backward':
        return `${where}: '${issue.raw}' is ${duration(issue.backMs!)} before line ${issue.previousLine}'s '${issue.previousRaw}'${entity} (daylight saving or a clock step?): kept in file order`;
      case 'missing':
        return issue.previousLine !== undefined
          ? `${where}: no time${entity}${more}: taken as line ${issue.previousLine}'s '${issue.previousRaw}', kept in file order`
          : `${where}: no time${entity}${more}: taken as the next row's, kept in file order`;
    }
  });
  const rest = table.timeIssues.slice(limit);
  if (rest.length > 0) {
    const rows = rest.reduce((s, i) => s + i.rows, 0);
    out.push(
      `${table.file}: ${rest.length} more time problem${rest.length > 1 ? 's' : ''} (${rows} row${rows > 1 ? 's' : ''}) after line ${table.timeIssues[limit - 1]!.lastLine}, each kept in file order`,
    );
  }
  return out;
}

function numberCell(cell: string, file: string, line: number, column: string, allowMissing: boolean): number {
  const plain = plainDecimal(cell);
  if (plain !== undefined) return plain;
  const s = cell.trim();
  if (s === '') {
    if (allowMissing) return Number.NaN;
    throw new CsvError(file, 'empty value: every feature cell needs a number', line, column);
  }
  const v = Number(s);
  // Number('') and Number('0x10') are numbers in JavaScript but not in a CSV of metrics.
  if (Number.isFinite(v) && !/^0[xob]/i.test(s)) return v;
  if (allowMissing && /^(nan|null|na)$/i.test(s)) return Number.NaN;
  throw new CsvError(file, `'${cell}' is not a finite number`, line, column);
}

/**
 * Puts a table's features in the order of `names` (a trained model's), so a file whose columns
 * are shuffled still scores right; a missing feature is an error naming it.
 */
export function alignFeatures(table: MetricsTable, names: readonly string[]): Matrix {
  const missing = names.filter((n) => !table.featureNames.includes(n));
  if (missing.length > 0) {
    throw new CsvError(
      table.file,
      `missing feature column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} that the model was trained on`,
      1,
    );
  }
  const extra = table.featureNames.filter((n) => !names.includes(n));
  if (extra.length > 0) {
    throw new CsvError(
      table.file,
      `column${extra.length > 1 ? 's' : ''} ${extra.map((m) => `'${m}'`).join(', ')} not in the training data (the model has ${names.join(', ')})`,
      1,
    );
  }
  if (names.every((n, i) => table.featureNames[i] === n)) return table.matrix;
  const { rows, cols, data } = table.matrix;
  const from = names.map((n) => table.featureNames.indexOf(n));
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[r * cols + c] = data[r * cols + from[c]!]!;
  return { rows, cols, data: out };
}

/** The header row of a CSV file (column names), without parsing the rest. */
export async function readCsvHeader(file: string): Promise<string[]> {
  const text = await readText(file);
  let header: string[] | undefined;
  const stop = new Error('header read');
  try {
    tokenizeCsv(text, (fields) => {
      header = fields.map((f) => f.trim());
      throw stop;
    });
  } catch (err) {
    if (err !== stop) throw err;
  }
  if (header === undefined) throw new CsvError(file, 'the file is empty: a header row is needed');
  return header;
}
