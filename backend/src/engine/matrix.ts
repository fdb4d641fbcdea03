import { EngineError } from './errors.js';

/**
 * A dense row-major matrix of features: row r, column c lives at `data[r * cols + c]`.
 * One typed array instead of an array of rows keeps scoring loops tight and lets a batch
 * move to a worker thread without copying.
 */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** Builds a matrix from rows, refusing ragged rows and values that are not finite numbers. */
export function matrixFromRows(rows: ReadonlyArray<ArrayLike<number>>): Matrix {
  if (rows.length === 0) throw new EngineError('EMPTY_DATA', 'no rows: at least one row is needed');
  const cols = rows[0]!.length;
  if (cols === 0) throw new EngineError('EMPTY_DATA', 'rows have no columns: at least one feature is needed');
  const data = new Float64Array(rows.length * cols);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.length !== cols) {
      throw new EngineError('RAGGED_ROWS', `row ${r} has ${row.length} values, row 0 has ${cols}`, {
        row: r,
      });
    }
    for (let c = 0; c < cols; c++) data[r * cols + c] = row[c]!;
  }
  return checkedMatrix({ rows: rows.length, cols, data });
}

/** Validates a matrix's shape and that every value is finite (NaN and ±Infinity are refused). */
export function checkedMatrix(m: Matrix): Matrix {
  if (m.rows <= 0) throw new EngineError('EMPTY_DATA', 'no rows: at least one row is needed');
  if (m.cols <= 0) throw new EngineError('EMPTY_DATA', 'no columns: at least one feature is needed');
  if (m.data.length !== m.rows * m.cols) {
    throw new EngineError(
      'RAGGED_ROWS',
      `data has ${m.data.length} values, expected rows × cols = ${m.rows * m.cols}`,
    );
  }
  const { data, cols } = m;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) {
      const row = Math.floor(i / cols);
      const column = i % cols;
      throw new EngineError(
        'NON_FINITE',
        `row ${row}, column ${column} is ${v}: every value must be a finite number`,
        {
          row,
          column,
        },
      );
    }
  }
  return m;
}

/** Row r as a subarray view (no copy). */
export function rowOf(m: Matrix, r: number): Float64Array {
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}
