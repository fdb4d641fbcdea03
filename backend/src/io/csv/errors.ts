/** A CSV the user gave us cannot be used: the message names the file, the line and the column. */
export class CsvError extends Error {
  override readonly name = 'CsvError';
  readonly code = 'CSV_INVALID';

  constructor(
    readonly file: string,
    message: string,
    /** 1-based line in the file (the header is line 1); undefined for whole-file problems. */
    readonly line?: number,
    readonly column?: string,
  ) {
    const where = [
      file,
      line === undefined ? undefined : `line ${line}`,
      column === undefined ? undefined : `column '${column}'`,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super(`${where}: ${message}`);
  }
}
