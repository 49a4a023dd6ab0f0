import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { CatchmentError, type ErrorCode, type FieldError } from './errors.ts';

/** Schema errors as field paths, without the redundant "schema is false" echoes. */
export function schemaErrors(schema: TSchema, value: unknown): FieldError[] {
  const out: FieldError[] = [];
  for (const e of Value.Errors(schema, value)) {
    if (e.keyword === 'boolean') continue;
    const extra =
      e.keyword === 'additionalProperties'
        ? `: ${((e.params as { additionalProperties?: string[] }).additionalProperties ?? []).join(', ')}`
        : '';
    out.push({ path: e.instancePath, message: `${e.message}${extra}` });
  }
  return out;
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
