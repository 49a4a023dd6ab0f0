import { Type } from 'typebox';
import { Problem } from './problem.ts';

/** Error responses every route documents: RFC 9457 problem details. */
export const errorResponses = {
  '4xx': { description: 'problem details', content: { 'application/problem+json': { schema: Problem } } },
  '5xx': { description: 'problem details', content: { 'application/problem+json': { schema: Problem } } },
};

export const Reason = Type.String({ minLength: 1, maxLength: 1000, description: 'why: recorded in the audit log' });
export const Timestamp = Type.String({ format: 'date-time' });

/**
 * A free-form object (report load and details, action params): bounded in members here,
 * in depth by the validator (MAX_DEPTH), and in size by `freeFormProblem`.
 */
export const FREE_FORM_MAX_BYTES = 64 * 1024;
export function FreeForm(description?: string) {
  return Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), {
    maxProperties: 1000,
    description: `free-form JSON object, at most ${FREE_FORM_MAX_BYTES / 1024} KiB${description ? `: ${description}` : ''}`,
  });
}

/** Why a free-form value is too large to store, or undefined. */
export function freeFormProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const bytes = Buffer.byteLength(JSON.stringify(value));
  return bytes > FREE_FORM_MAX_BYTES ? `is ${bytes} bytes; at most ${FREE_FORM_MAX_BYTES} are stored` : undefined;
}
