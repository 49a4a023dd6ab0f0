import { CatchmentError, type ErrorCode, ErrorCodes, type FieldError, isCatchmentError } from '@catchment/core';
import { isDatabaseUnreachable } from '@catchment/db';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { SIMULATION_RETRY_SECONDS } from './simulate/one-at-a-time.ts';
import { AUTH_BUSY_RETRY_SECONDS } from './verification-limit.ts';

/**
 * RFC 9457 problem details. `code` is the stable catalogue code (packages/core
 * errors.ts) that scripts match on; `type` is a URN derived from it, so it is stable too.
 */
export const FieldProblem = Type.Object({
  path: Type.String({ description: 'JSON pointer into the request body (or the query parameter)' }),
  message: Type.String(),
  code: Type.Optional(Type.String()),
});

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String(),
    code: Type.String(),
    errors: Type.Optional(Type.Array(FieldProblem)),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { description: 'RFC 9457 problem details (application/problem+json)' },
);

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  errors?: (FieldError & { code?: string })[];
  details?: Record<string, unknown>;
}

export function problemType(code: string): string {
  return `urn:catchment:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}

/** Field errors that carry their own code; the problem's code is theirs when they agree. */
export function fieldProblem(errors: FieldError[], fallback: ErrorCode = 'VALIDATION_FAILED'): CatchmentError {
  const codes = new Set(errors.map((e) => e.code ?? fallback));
  const code = codes.size === 1 ? ([...codes][0] as ErrorCode) : fallback;
  const first = errors[0];
  const message =
    errors.length === 1 && first ? `${first.path || '/'}: ${first.message}` : `${errors.length} errors in the request`;
  return new CatchmentError(code, message, { errors });
}

/**
 * Errors from PostgreSQL constraints, mapped to the domain's codes (defence in depth). The
 * database's own text (table names, key values, encodings) never reaches a client: only
 * the name of the rule, and the messages of Catchment's own triggers.
 */
function fromDatabase(err: unknown): CatchmentError | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const pg = e as { code?: string; constraint_name?: string; constraint?: string; message?: string; where?: string };
    const constraint = pg.constraint_name ?? pg.constraint ?? '';
    if (typeof pg.code === 'string' && /^[0-9A-Z]{5}$/.test(pg.code)) {
      const details = constraint ? { constraint } : undefined;
      const ours = OWN_TRIGGERS.has(constraint) ? pg.message : undefined;
      switch (pg.code) {
        case '23505':
          return new CatchmentError('NAME_TAKEN', 'an object with the same key already exists', { details });
        case '23P01':
          return new CatchmentError('PREFIX_OVERLAP', 'unicast prefix overlaps an existing unicast prefix', {
            details,
          });
        case '23001':
        case '23503':
          return new CatchmentError('IN_USE', 'the object is referenced by another object', { details });
        case '23514':
          if (constraint === 'records_value_format')
            return new CatchmentError('RECORD_INVALID', 'the record data is not valid for its type', { details });
          if (constraint === 'records_cname_alone')
            return new CatchmentError('CNAME_CONFLICT', ours ?? 'a CNAME cannot coexist with other data', { details });
          if (constraint === 'prefixes_supernet_covers')
            return new CatchmentError('PREFIX_OUTSIDE_SUPERNET', ours ?? 'not inside its supernet', { details });
          return new CatchmentError(
            'VALIDATION_FAILED',
            `the value breaks the rule ${constraint || 'of the database'}`,
            {
              details,
            },
          );
        case '22P02':
        case '22023':
        case '22021':
        case '22P05':
        case '22003':
        case '22001':
        case '22007':
        case '22008':
        case '54000':
          return new CatchmentError(
            'VALIDATION_FAILED',
            'a value cannot be stored (invalid, out of range or too large)',
            {
              details,
            },
          );
        case '08006':
        case '08001':
        case '57P01':
          return new CatchmentError('DB_UNREACHABLE', 'database unreachable');
      }
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Constraints raised by Catchment's own triggers (migrations/), whose text is written for users. */
const OWN_TRIGGERS = new Set(['records_cname_alone', 'prefixes_supernet_covers']);

export function toCatchmentError(err: unknown): CatchmentError {
  if (isCatchmentError(err)) return err;
  const fe = err as FastifyError & { validationContext?: string };
  if (fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (fe?.statusCode === 400 && fe instanceof SyntaxError))
    return new CatchmentError('MALFORMED_JSON', fe.message);
  if (fe?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new CatchmentError('MALFORMED_JSON', fe.message);
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fe?.statusCode === 415)
    return new CatchmentError('UNSUPPORTED_MEDIA_TYPE', fe.message);
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fe?.statusCode === 413)
    return new CatchmentError('BODY_TOO_LARGE', fe.message);
  if (fe?.statusCode === 429) return new CatchmentError('RATE_LIMITED', fe.message);
  if (fe?.code === 'FST_ERR_BAD_URL')
    return new CatchmentError('INVALID_QUERY', 'the URL is not valid percent-encoded UTF-8');
  if (fe?.code === 'FST_ERR_MAX_PARAM_LENGTH' || fe?.statusCode === 414)
    return new CatchmentError('URI_TOO_LONG', 'a path parameter is longer than any name this API has');
  if (fe?.code === 'FST_ERR_VALIDATION')
    return new CatchmentError(fe.validationContext === 'body' ? 'VALIDATION_FAILED' : 'INVALID_QUERY', fe.message);
  if (isDatabaseUnreachable(err))
    return new CatchmentError('DB_UNREACHABLE', 'the database is unreachable; retry later', { cause: err });
  const db = fromDatabase(err);
  if (db) return db;
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return new CatchmentError('BAD_REQUEST', fe.message);
  return new CatchmentError('INTERNAL', 'internal error', { cause: err });
}

export function problemBody(err: CatchmentError, instance: string): ProblemBody {
  const status = ErrorCodes[err.code].status;
  const body: ProblemBody = {
    type: problemType(err.code),
    title: ErrorCodes[err.code].title,
    status,
    detail: err.message,
    instance,
    code: err.code,
  };
  if (err.errors.length > 0) body.errors = err.errors;
  if (err.details) body.details = err.details;
  return body;
}

/** Retry-After of 503 DB_UNREACHABLE answers, seconds. */
export const DB_RETRY_SECONDS = 5;

/** Temporary refusals and when to try again, seconds. */
const RETRY_SECONDS: Partial<Record<ErrorCode, number>> = {
  DB_UNREACHABLE: DB_RETRY_SECONDS,
  AUTH_BUSY: AUTH_BUSY_RETRY_SECONDS,
  SIMULATION_BUSY: SIMULATION_RETRY_SECONDS,
};

export function sendProblem(reply: FastifyReply, req: FastifyRequest, err: CatchmentError): FastifyReply {
  const body = problemBody(err, req.url.split('?')[0] ?? req.url);
  // A database outage is temporary: say when to try again (RFC 9110 §10.2.3).
  const retry = RETRY_SECONDS[err.code];
  if (retry !== undefined && !reply.hasHeader('retry-after')) reply.header('retry-after', String(retry));
  // Pre-serialised: problem bodies bypass the routes' success-response serialisers.
  return reply.code(body.status).type('application/problem+json').send(JSON.stringify(body));
}
