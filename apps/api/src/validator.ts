import { CatchmentError, type ErrorCode } from '@catchment/core';
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

/**
 * Request validation with TypeBox itself (the same engine as `validateConfig`), so body
 * errors carry the same JSON-pointer paths. Bodies are never coerced ("5" is not a
 * number); query strings, path parameters and headers are text and are converted first.
 * A route may name the code its body errors get (e.g. PLAYBOOK_INVALID).
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart, url }) => {
  const check = Compile(schema);
  const isBody = httpPart === 'body';
  const code: ErrorCode = isBody ? (bodyCodes.get(url) ?? 'VALIDATION_FAILED') : 'INVALID_QUERY';
  return (data: unknown) => {
    const value = isBody ? data : Value.Convert(schema, data);
    if (check.Check(value)) return { value };
    const errors = [...check.Errors(value)]
      .filter((e) => e.keyword !== 'boolean')
      .slice(0, 20)
      .map((e) => {
        const extra =
          e.keyword === 'additionalProperties'
            ? `: ${((e.params as { additionalProperties?: string[] }).additionalProperties ?? []).join(', ')}`
            : '';
        const path = isBody ? e.instancePath : e.instancePath.replace(/^\//, '') || httpPart || '';
        return { path, message: `${e.message}${extra}`, code };
      });
    const first = errors[0];
    const where = isBody ? 'body' : httpPart;
    const message = first ? `${where} ${first.path || '/'}: ${first.message}` : `${where} is invalid`;
    return { error: new CatchmentError(code, message, { errors }) };
  };
};

/** Route URL → the problem code for its body schema errors. */
export const bodyCodes = new Map<string, ErrorCode>();
