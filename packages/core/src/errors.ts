/**
 * The catalogue of Catchment's error codes. Every error that reaches an operator
 * (CLI, API problem+json, logs) carries one of these stable codes, so scripts can
 * match on the code instead of the message.
 */
export const ErrorCodes = {
  CONFIG_INVALID: { status: 422, title: 'Configuration is invalid' },
  CONFIG_UNREADABLE: { status: 400, title: 'Configuration file cannot be read' },
  SCENARIO_INVALID: { status: 422, title: 'Simulation scenario is invalid' },
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
  CLIENT_CERT_REQUIRED: { status: 403, title: 'A valid TLS client certificate is required for this token' },
  INTERNAL: { status: 500, title: 'Internal error' },
  // Request shape (API): the request itself cannot be understood.
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  MALFORMED_JSON: { status: 400, title: 'Body is not valid JSON' },
  INVALID_QUERY: { status: 400, title: 'Invalid query or path parameter' },
  INVALID_CURSOR: { status: 400, title: 'Invalid pagination cursor' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  BODY_TOO_LARGE: { status: 413, title: 'Body too large' },
  URI_TOO_LONG: { status: 414, title: 'URI too long' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  AUTH_BUSY: { status: 503, title: 'Too many token verifications at once' },
  // Domain rules on resources, each its own code so scripts can tell them apart.
  CIDR_INVALID: { status: 422, title: 'Invalid CIDR' },
  PREFIX_TOO_LONG: { status: 422, title: 'Prefix longer than the longest announceable length' },
  PREFIX_OUTSIDE_SUPERNET: { status: 422, title: 'Unicast prefix is not inside its supernet' },
  PREFIX_OVERLAP: { status: 409, title: 'Unicast prefix overlaps another edge or prefix' },
  COMMUNITY_INVALID: { status: 422, title: 'Invalid BGP community' },
  ADDRESS_INVALID: { status: 422, title: 'Invalid IP address' },
  DSR_ADDRESS_INVALID: { status: 422, title: "DSR address is not the edge's own unicast address" },
  DSR_INVALID: { status: 422, title: 'DSR settings are invalid' },
  REFERENCE_UNKNOWN: { status: 422, title: 'Reference to an unknown object' },
  PLAYBOOK_INVALID: { status: 422, title: 'Playbook structure is invalid' },
  SLO_INVALID: { status: 422, title: 'SLO thresholds are invalid' },
  WATERMARKS_INVALID: { status: 422, title: 'Load-spreading watermarks are invalid' },
  NAME_OUT_OF_ZONE: { status: 422, title: 'Name is not inside its zone' },
  RECORD_INVALID: { status: 422, title: 'Record data is not valid for its type' },
  CNAME_CONFLICT: { status: 409, title: 'A CNAME cannot coexist with other data or sit at the zone apex' },
  NAME_TAKEN: { status: 409, title: 'Name already in use' },
  IN_USE: { status: 409, title: 'Object is still referenced' },
  // Concurrency and idempotency.
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key reused with a different request' },
  STATE_CONFLICT: { status: 409, title: 'Object is not in a state that allows this' },
  ALREADY_IN_EFFECT: { status: 409, title: 'The change is in effect already (a no-op, not counted)' },
  NO_SNAPSHOT: { status: 404, title: 'No snapshot published yet' },
  NOT_MIGRATED: { status: 503, title: 'Database schema is not migrated' },
  DNSSEC_KEK_MISSING: { status: 503, title: 'No DNSSEC key-encryption key is configured' },
  DNSSEC_KEK_MISMATCH: { status: 409, title: "The key-encryption key is not the one of the zone's keys" },
  DNSSEC_NOT_ENABLED: { status: 409, title: 'DNSSEC is not enabled for this zone' },
  ROLLOVER_WAITING: { status: 409, title: 'The rollover step must wait for caches to expire' },
  EXPLAIN_UNAVAILABLE: { status: 503, title: 'No DNS decision function is configured' },
  UI_NOT_BUILT: { status: 503, title: 'The dashboard is not built' },
  // The simulator over HTTP (POST /v1/simulate).
  SIMULATE_UNAVAILABLE: { status: 503, title: 'This API runs without the simulator' },
  SIMULATION_BUSY: { status: 429, title: 'A simulation is already running on this API instance' },
  SIMULATION_TOO_LARGE: { status: 413, title: 'The scenario is larger than this API simulates' },
  SIMULATION_OUT_OF_MEMORY: { status: 413, title: 'The simulation needs more memory than this API allows it' },
  SIMULATION_TIMEOUT: { status: 504, title: 'The simulation ran past the time this API allows it' },
  SIMULATION_FAILED: { status: 500, title: 'The simulation failed in its worker thread' },
  SIMULATION_CANCELLED: { status: 503, title: 'The simulation was cancelled before its end' },
  // Config as code (POST /v1/config/apply).
  PLAN_STALE: { status: 409, title: 'The configuration changed since the plan was made' },
  PLAN_GUARDED: { status: 409, title: 'The plan changes or removes too much' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** One problem at one place in a document, e.g. `/edges/2/capacity/rps`. */
export interface FieldError {
  path: string;
  message: string;
  /** The catalogue code of a domain rule (schema errors have none: VALIDATION_FAILED). */
  code?: ErrorCode;
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
