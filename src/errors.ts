/**
 * One error type for the whole project: a stable `code` that callers and tests
 * match on, a human message, and the underlying `cause` kept intact.
 */
export type TrellisErrorCode =
  | 'CONFIG_PARSE'
  | 'CONFIG_INVALID'
  | 'CONFIG_CONFLICT'
  | 'CONFIG_SOURCE'
  | 'XDS_PROTOCOL'
  | 'XDS_UNKNOWN_TYPE'
  | 'XDS_INVALID_NODE'
  | 'TRANSLATE'
  | 'CLI_USAGE'
  | 'IO';

export class TrellisError extends Error {
  readonly code: TrellisErrorCode;

  constructor(code: TrellisErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrellisError';
    this.code = code;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
