/**
 * The catalogue of Catchment's error codes. Every error that reaches an operator
 * (CLI, API problem+json, logs) carries one of these stable codes, so scripts can
 * match on the code instead of the message.
 */
export const ErrorCodes = {
  CONFIG_INVALID: { status: 422, title: 'Configuration is invalid' },
  CONFIG_UNREADABLE: { status: 400, title: 'Configuration file cannot be read' },
  VALIDATION_FAILED: { status: 422, title: 'Validation failed' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  CONFLICT: { status: 409, title: 'Conflict' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition failed' },
  SAFETY_REFUSED: { status: 409, title: 'Refused by a safety rule' },
  DB_UNREACHABLE: { status: 503, title: 'Database unreachable' },
  SNAPSHOT_INVALID: { status: 500, title: 'Snapshot is invalid' },
  PORT_IN_USE: { status: 500, title: 'Port in use' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  INTERNAL: { status: 500, title: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** One problem at one place in a document, e.g. `/edges/2/capacity/rps`. */
export interface FieldError {
  path: string;
  message: string;
}

export class CatchmentError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[];
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { errors?: FieldError[]; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CatchmentError';
    this.code = code;
    this.errors = opts.errors ?? [];
    this.details = opts.details;
  }

  get status(): number {
    return ErrorCodes[this.code].status;
  }

  /** Multi-line text for a terminal: the message, then one line per field error. */
  describe(): string {
    return [`${this.code}: ${this.message}`, ...this.errors.map((e) => `  ${e.path || '/'}: ${e.message}`)].join('\n');
  }
}

export function isCatchmentError(err: unknown): err is CatchmentError {
  return err instanceof CatchmentError;
}
