import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import type { FieldError } from './errors.ts';

// Every schema error of a document, one line each, in the words of the schema: the
// validator's own error list stops inside the first failing array item and explains a
// failed union (`anyOf`) with every branch's errors. This walks the (JSON Schema) value
// itself: it recurses into every item, picks the branch of a union the value meant (by
// its `kind`-like constant, or the keys it has), and says what was expected using the
// schema's `description` where there is one.

type Schema = Record<string, unknown> & {
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  patternProperties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
};

const pointerKey = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const show = (v: unknown) =>
  typeof v === 'string'
    ? `"${v}"`
    : typeOf(v) === 'object'
      ? 'an object'
      : typeOf(v) === 'array'
        ? 'a list'
        : String(v);
const list = (vals: unknown[]) => vals.map((v) => `"${String(v)}"`).join(', ');

function expected(s: Schema): string {
  if (s.description) return s.description;
  if (s.enum) return `one of ${list(s.enum)}`;
  if (s.const !== undefined) return `"${String(s.const)}"`;
  if (s.anyOf) return s.anyOf.map(expected).join(' or ');
  const t =
    s.type === 'integer'
      ? 'an integer'
      : s.type === 'array'
        ? 'a list'
        : s.type === 'object'
          ? 'a mapping'
          : `a ${String(s.type)}`;
  return t;
}

function typeMatches(s: Schema, v: unknown): boolean {
  const t = s.type;
  if (t === undefined) return true;
  const types = Array.isArray(t) ? t : [t];
  return types.some((x) =>
    x === 'integer'
      ? Number.isInteger(v)
      : x === 'number'
        ? typeof v === 'number' && Number.isFinite(v)
        : typeOf(v) === x,
  );
}

/** Constant-valued properties of an object schema (discriminators such as `kind`). */
const constants = (s: Schema) =>
  Object.entries(s.properties ?? {}).filter(([, p]) => p.const !== undefined) as [string, Schema][];

function union(s: Schema, v: unknown, path: string, out: FieldError[]): void {
  const branches = s.anyOf ?? [];
  if (typeOf(v) === 'object') {
    const obj = v as Record<string, unknown>;
    const objects = branches.filter((b) => b.type === 'object');
    // Discriminated: the branch whose constants the value carries.
    const discriminators = [...new Set(objects.flatMap((b) => constants(b).map(([k]) => k)))];
    for (const d of discriminators) {
      const values = objects.map((b) => b.properties?.[d]?.const).filter((x) => x !== undefined);
      const chosen = objects.find((b) => b.properties?.[d]?.const === obj[d]);
      if (chosen) {
        walk(chosen, v, path, out);
        return;
      }
      if (obj[d] === undefined) out.push({ path: `${path}/${d}`, message: `required: one of ${list(values)}` });
      else out.push({ path: `${path}/${d}`, message: `expected one of ${list(values)} (got ${show(obj[d])})` });
      return;
    }
    // Otherwise the branch whose required keys the value has (e.g. a policy match).
    const keyed = objects.filter((b) => (b.required ?? []).every((k) => k in obj));
    if (keyed.length === 1 && keyed[0]) {
      walk(keyed[0], v, path, out);
      return;
    }
    const names = objects.map((b) => (b.required ?? []).join('+')).filter(Boolean);
    if (names.length === objects.length && objects.length > 0) {
      out.push({
        path,
        message: `expected exactly one of ${names.join(', ')} (got ${Object.keys(obj).join(', ') || 'none'})`,
      });
      return;
    }
  }
  const sameType = branches.filter((b) => typeMatches(b, v));
  if (sameType.length === 1 && sameType[0]) {
    walk(sameType[0], v, path, out);
    return;
  }
  out.push({ path, message: `expected ${expected(s)} (got ${show(v)})` });
}

function walk(s: Schema, v: unknown, path: string, out: FieldError[]): void {
  const valid: boolean = Value.Check(s as TSchema, v);
  if (valid) return;
  if (s.anyOf) {
    union(s, v, path, out);
    return;
  }
  if (s.const !== undefined) {
    out.push({ path, message: `expected "${String(s.const)}" (got ${show(v)})` });
    return;
  }
  if (s.enum) {
    out.push({ path, message: `expected one of ${list(s.enum)} (got ${show(v)})` });
    return;
  }
  if (!typeMatches(s, v)) {
    out.push({ path, message: `expected ${expected(s)} (got ${show(v)})` });
    return;
  }
  const before = out.length;
  if (typeof v === 'string') {
    const n = s as { minLength?: number; maxLength?: number; pattern?: string };
    const bad =
      (n.minLength !== undefined && v.length < n.minLength) ||
      (n.maxLength !== undefined && v.length > n.maxLength) ||
      (n.pattern !== undefined && !new RegExp(n.pattern, 'u').test(v));
    if (bad) {
      const len =
        n.maxLength !== undefined && v.length > n.maxLength
          ? ` at most ${n.maxLength} characters`
          : n.minLength !== undefined && v.length < n.minLength
            ? ` at least ${n.minLength} character(s)`
            : '';
      out.push({
        path,
        message: s.description
          ? `expected ${s.description}${len ? `,${len}` : ''} (got ${show(v)})`
          : `expected${len || ' another form'} (got ${show(v)})`,
      });
    }
  } else if (typeof v === 'number') {
    const n = s as { minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number };
    if (n.minimum !== undefined && v < n.minimum)
      out.push({ path, message: `must be at least ${n.minimum} (got ${v})` });
    else if (n.maximum !== undefined && v > n.maximum)
      out.push({ path, message: `must be at most ${n.maximum} (got ${v})` });
    else if (n.exclusiveMinimum !== undefined && v <= n.exclusiveMinimum)
      out.push({ path, message: `must be greater than ${n.exclusiveMinimum} (got ${v})` });
    else if (n.exclusiveMaximum !== undefined && v >= n.exclusiveMaximum)
      out.push({ path, message: `must be less than ${n.exclusiveMaximum} (got ${v})` });
  } else if (Array.isArray(v)) {
    const n = s as { minItems?: number; maxItems?: number };
    if (n.minItems !== undefined && v.length < n.minItems)
      out.push({ path, message: `needs at least ${n.minItems} item(s)` });
    if (n.maxItems !== undefined && v.length > n.maxItems)
      out.push({ path, message: `takes at most ${n.maxItems} item(s)` });
    if (s.items) v.forEach((item, i) => walk(s.items as Schema, item, `${path}/${i}`, out));
  } else if (typeOf(v) === 'object') {
    const obj = v as Record<string, unknown>;
    const props = s.properties ?? {};
    for (const k of s.required ?? [])
      if (!(k in obj)) out.push({ path: `${path}/${pointerKey(k)}`, message: 'required field is missing' });
    const n = s as { minProperties?: number };
    if (n.minProperties !== undefined && Object.keys(obj).length < n.minProperties)
      out.push({ path, message: `needs at least ${n.minProperties} field(s)` });
    for (const [k, val] of Object.entries(obj)) {
      const p = `${path}/${pointerKey(k)}`;
      if (props[k]) {
        walk(props[k], val, p, out);
        continue;
      }
      const patterns = Object.entries(s.patternProperties ?? {});
      const match = patterns.find(([re]) => new RegExp(re, 'u').test(k));
      if (match) walk(match[1], val, p, out);
      else if (patterns.length > 0 && s.additionalProperties === false)
        out.push({
          path: p,
          message: `"${k}" is not a valid key${patterns[0]?.[1].description ? '' : ''} (expected ${patterns.map(([re]) => re).join(' or ')})`,
        });
      else if (s.additionalProperties === false)
        out.push({
          path: p,
          message: `unknown field "${k}"${Object.keys(props).length ? ` (known: ${Object.keys(props).join(', ')})` : ''}`,
        });
      else if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, val, p, out);
    }
  }
  // The validator disagrees but no rule above says why (a keyword this walk does not know).
  if (out.length === before) out.push({ path, message: `does not match ${expected(s)}` });
}

/** Every schema error of `value`, one per field, with a message that says what was expected. */
export function describeSchemaErrors(schema: TSchema, value: unknown): FieldError[] {
  const out: FieldError[] = [];
  walk(schema as unknown as Schema, value, '', out);
  return out;
}
