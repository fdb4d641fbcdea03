import { readFile } from 'node:fs/promises';
import type { Matrix } from '../../engine/index.js';
import { CsvError } from './errors.js';
import { parseTimestamp } from './timestamp.js';
import { tokenizeCsv } from './tokenize.js';

/** Column names taken as the row's time, in the order they are looked for (Telegraf and InfluxDB export `time`). */
export const TIMESTAMP_COLUMNS = ['timestamp', 'time', '_time'] as const;

export interface CsvReadOptions {
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
}

/** Reads a metrics CSV from disk. A missing or unreadable file is a CsvError naming it. */
export async function readMetricsCsv(file: string, options: CsvReadOptions = {}): Promise<MetricsTable> {
  return parseMetricsCsv(await readText(file), file, options);
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`;
    throw new CsvError(file, why);
  }
}

/**
 * Parses metrics CSV text. Every column is a numeric feature except the time column, the label
 * column and ignored columns; a cell that is not a number is an error that names its line and
 * column, because silently dropping it would train on different data than the user thinks.
 */
export function parseMetricsCsv(text: string, file: string, options: CsvReadOptions = {}): MetricsTable {
  let header: string[] | undefined;
  const records: string[][] = [];
  const lineOf: number[] = [];
  tokenizeCsv(text, (fields, line) => {
    if (header === undefined) header = fields.map((f) => f.trim());
    else {
      records.push(fields);
      lineOf.push(line);
    }
  });
  if (header === undefined) throw new CsvError(file, 'the file is empty: a header row is needed');
  const names = header;
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
  const labelIndex =
    options.labelColumn === undefined || (options.labelOptional && !names.includes(options.labelColumn))
      ? -1
      : columnIndex(options.labelColumn, 'label');
  const ignored = new Set((options.ignoreColumns ?? []).map((name) => columnIndex(name, 'ignored')));
  const timeIndex = names.findIndex((n) =>
    (TIMESTAMP_COLUMNS as readonly string[]).includes(n.toLowerCase()),
  );
  const featureIndex = options.columns
    ? options.columns.map((name) => columnIndex(name, 'requested'))
    : names.map((_, i) => i).filter((i) => i !== labelIndex && i !== timeIndex && !ignored.has(i));
  if (featureIndex.length === 0) {
    throw new CsvError(file, 'no feature columns: every column is the time, the label or ignored', 1);
  }
  if (records.length === 0) throw new CsvError(file, 'no data rows after the header');

  const rows = records.length;
  const cols = featureIndex.length;
  const data = new Float64Array(rows * cols);
  const labels = labelIndex >= 0 ? new Uint8Array(rows) : undefined;
  const nonNumeric = options.lenient ? new Array<number>(cols).fill(0) : undefined;
  const timestampRaw = timeIndex >= 0 ? new Array<string>(rows) : undefined;
  const timeMs = timeIndex >= 0 ? new Float64Array(rows) : undefined;
  for (let r = 0; r < rows; r++) {
    const fields = records[r]!;
    const line = lineOf[r]!;
    if (fields.length !== names.length) {
      throw new CsvError(file, `${fields.length} fields, the header has ${names.length}`, line);
    }
    for (let c = 0; c < cols; c++) {
      const i = featureIndex[c]!;
      if (nonNumeric) {
        const cell = fields[i]!.trim();
        const v = cell === '' ? Number.NaN : Number(cell);
        if (cell !== '' && !Number.isFinite(v) && !/^(nan|null|na)$/i.test(cell)) nonNumeric[c]!++;
        data[r * cols + c] = Number.isFinite(v) ? v : Number.NaN;
      } else {
        data[r * cols + c] = numberCell(fields[i]!, file, line, names[i]!, options.allowMissing === true);
      }
    }
    if (labels) {
      const v = numberCell(fields[labelIndex]!, file, line, names[labelIndex]!, false);
      if (v !== 0 && v !== 1)
        throw new CsvError(file, `label '${fields[labelIndex]}' is not 0 or 1`, line, names[labelIndex]);
      labels[r] = v;
    }
    if (timestampRaw && timeMs) {
      const raw = fields[timeIndex]!;
      const t = parseTimestamp(raw);
      if (Number.isNaN(t)) {
        throw new CsvError(
          file,
          `'${raw}' is not a timestamp (ISO 8601 or epoch seconds/milliseconds)`,
          line,
          names[timeIndex],
        );
      }
      timestampRaw[r] = raw;
      timeMs[r] = t;
    }
  }
  return {
    file,
    header: names,
    ...(timeIndex >= 0 ? { timestampColumn: names[timeIndex]!, timestampRaw, timeMs } : {}),
    featureNames: featureIndex.map((i) => names[i]!),
    matrix: { rows, cols, data },
    ...(labels ? { labels } : {}),
    lines: Uint32Array.from(lineOf),
    ...(nonNumeric ? { nonNumeric } : {}),
  };
}

function numberCell(cell: string, file: string, line: number, column: string, allowMissing: boolean): number {
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
