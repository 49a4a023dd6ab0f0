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
    if (tooDeep(data)) {
      return {
        error: new CatchmentError(code, `${isBody ? 'body' : httpPart} is nested deeper than ${MAX_DEPTH} levels`, {
          errors: [{ path: '', message: `must not nest deeper than ${MAX_DEPTH} levels`, code }],
        }),
      };
    }
    const nul = findNul(data);
    if (nul !== undefined) {
      const path = isBody ? nul : nul.replace(/^\//, '');
      return {
        error: new CatchmentError(
          code,
          `${isBody ? 'body' : httpPart} ${path || '/'}: NUL characters are not allowed`,
          {
            errors: [{ path, message: 'must not contain NUL (U+0000) characters' }],
          },
        ),
      };
    }
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

/**
 * No request document nests deeper than this: deeper JSON broke JSON.stringify (a 500 at
 * depth 5 000) and clients reading it back. Checked iteratively, so depth itself cannot
 * overflow the stack here.
 */
export const MAX_DEPTH = 32;

function tooDeep(value: unknown): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_DEPTH) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** PostgreSQL text cannot hold U+0000: such input is refused up front, with its path. */
function findNul(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (depth > 64 || value === null || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    const p = `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (k.includes('\u0000')) return p;
    const found = findNul(v, p, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Route URL → the problem code for its body schema errors. */
export const bodyCodes = new Map<string, ErrorCode>();
