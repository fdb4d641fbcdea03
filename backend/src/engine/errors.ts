/** Every way the engine refuses its input. Callers map these to HTTP 4xx or CLI exit code 2. */
export type EngineErrorCode =
  | 'EMPTY_DATA'
  | 'TOO_FEW_ROWS'
  | 'RAGGED_ROWS'
  | 'NON_FINITE'
  | 'FEATURE_MISMATCH'
  | 'BAD_OPTION'
  | 'FORMAT_MAGIC'
  | 'FORMAT_VERSION'
  | 'FORMAT_TRUNCATED'
  | 'FORMAT_CORRUPT';

export interface EngineErrorDetail {
  row?: number;
  column?: number;
  option?: string;
}

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly detail: EngineErrorDetail = {},
  ) {
    super(message);
  }
}
