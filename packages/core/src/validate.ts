import type { Static, TSchema } from 'typebox';
import { CatchmentError, type ErrorCode, type FieldError } from './errors.ts';
import { describeSchemaErrors } from './schema-messages.ts';

/**
 * Schema errors as field paths: every one in the document, one line each, a failed
 * union reported as the one branch the value meant (schema-messages.ts).
 */
export function schemaErrors(schema: TSchema, value: unknown): FieldError[] {
  return describeSchemaErrors(schema, value);
}

/** Returns the value typed by the schema, or throws with every error listed by path. */
export function assertSchema<T extends TSchema>(schema: T, value: unknown, code: ErrorCode, what: string): Static<T> {
  const errors = schemaErrors(schema, value);
  if (errors.length > 0) {
    throw new CatchmentError(code, `${what} does not match its schema (${errors.length} error(s))`, {
      errors,
    });
  }
  return value as Static<T>;
}
