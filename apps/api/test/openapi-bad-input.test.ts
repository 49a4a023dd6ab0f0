import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DB_MODES } from '@catchment/testkit';
import { buildWorld, dbFingerprint, startTestApi, type TestApi } from './helpers.ts';

/**
 * Bad input generated from the API's own OpenAPI document: for every operation, bodies
 * and parameters of the wrong type, missing required fields, extra nesting, huge strings,
 * invalid UTF-8, overflowing numbers and durations. Each must get a 4xx problem+json, and
 * the database must be unchanged afterwards.
 */
// biome-ignore lint/suspicious/noExplicitAny: JSON Schema from the document is read loosely
type Schema = Record<string, any>;
interface Op {
  method: string;
  path: string;
  body?: Schema;
  params: { name: string; in: string; schema: Schema }[];
}

const HUGE = 'x'.repeat(300_000);
const DURATION_PATTERN = '^[0-9]+(ms|s|m|h|d)$';
/** Path parameters that name existing objects, so a request reaches body validation. */
const PATH_VALUES: Record<string, string> = {
  name: 'lhr',
  edge: 'lhr',
  zone: 'example.net',
  cidr: encodeURIComponent('198.18.4.0/24'),
  id: '1',
  version: '1',
};

function objectSchema(s: Schema | undefined): Schema | undefined {
  if (!s) return undefined;
  if (s.properties) return s;
  for (const v of s.anyOf ?? s.oneOf ?? []) if (v.properties) return v;
  return undefined;
}

function deep(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A value of a type the schema does not allow (undefined when the schema allows anything). */
function wrongType(s: Schema): unknown {
  const type = s.type ?? (s.enum ? 'string' : s.const !== undefined ? typeof s.const : undefined);
  switch (type) {
    case 'string':
      return 12345;
    case 'integer':
    case 'number':
      return '12';
    case 'boolean':
      return 'yes';
    case 'object':
      return 'not an object';
    case 'array':
      return { not: 'an array' };
    default:
      return undefined;
  }
}

/** Raw JSON bodies (text), each invalid by construction, with what it tries. */
function badBodies(s: Schema): [string, string][] {
  const out: [string, string][] = [
    ['string instead of the body', '"x"'],
    ['number instead of the body', '42'],
    ['extra nesting of the whole body', deep(100)],
  ];
  if (s.type === 'array') {
    out.push(['object instead of array', '{}']);
    const w = s.items ? wrongType(s.items) : undefined;
    if (w !== undefined) out.push(['item of the wrong type', JSON.stringify([w])]);
    if (s.items?.type === 'string') out.push(['huge item', JSON.stringify([HUGE])]);
  } else out.push(['array instead of object', '[]']);
  const obj = objectSchema(s);
  if (!obj) return out;
  if ((obj.required ?? []).length > 0) out.push(['missing required fields', '{}']);
  for (const [key, prop] of Object.entries(obj.properties as Record<string, Schema>)) {
    const w = wrongType(prop);
    if (w !== undefined) out.push([`${key}: wrong type`, JSON.stringify({ [key]: w })]);
    out.push([`${key}: extra nesting`, `{"${key}":${deep(40)}}`]);
    if (prop.type === 'string' && !prop.enum) {
      out.push([`${key}: huge string`, JSON.stringify({ [key]: HUGE })]);
      out.push([`${key}: NUL`, JSON.stringify({ [key]: 'a\u0000b' })]);
    }
    if (prop.type === 'integer' || prop.type === 'number') {
      out.push([`${key}: 1e400`, `{"${key}":1e400}`]);
      out.push([`${key}: -1e400`, `{"${key}":-1e400}`]);
      if (prop.type === 'integer') out.push([`${key}: 2^64`, `{"${key}":18446744073709551616}`]);
    }
    if (prop.pattern === DURATION_PATTERN) out.push([`${key}: overflowing duration`, `{"${key}":"9999999999999d"}`]);
    if (prop.format === 'date-time') out.push([`${key}: not a time`, `{"${key}":"not-a-date"}`]);
  }
  return out;
}

function operations(doc: Schema): Op[] {
  const ops: Op[] = [];
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Schema>>)) {
    for (const [method, op] of Object.entries(methods)) {
      ops.push({
        method: method.toUpperCase(),
        path,
        body: op.requestBody?.content?.['application/json']?.schema,
        params: op.parameters ?? [],
      });
    }
  }
  return ops;
}

function urlOf(op: Op, override: Record<string, string> = {}, query = ''): string {
  const path = op.path.replace(/\{([A-Za-z]+)\}/g, (_, n: string) => override[n] ?? PATH_VALUES[n] ?? '1');
  return query ? `${path}?${query}` : path;
}

for (const mode of DB_MODES) {
  describe(`bad input from the OpenAPI document (${mode})`, () => {
    let t: TestApi;
    let ops: Op[];
    before(async () => {
      t = await startTestApi(mode, { rateLimit: { max: 1_000_000, timeWindowMs: 60_000 } });
      await buildWorld(t);
      ops = operations((await t.call('GET', '/docs/json')).body);
    });
    after(() => t.close());

    const send = async (what: string, method: string, url: string, raw?: string | Buffer, code?: string) => {
      const headers: Record<string, string> = { authorization: `Bearer ${t.tokens.admin}` };
      if (raw !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${t.url}${url}`, { method, headers, body: raw });
      const text = await res.text();
      const where = `${method} ${url.slice(0, 120)} (${what})`;
      assert.ok(res.status >= 400 && res.status < 500, `${where} → ${res.status} ${text.slice(0, 300)}`);
      assert.match(String(res.headers.get('content-type')), /application\/problem\+json/, where);
      assert.equal(typeof JSON.parse(text).code, 'string', where);
      if (code) assert.equal(JSON.parse(text).code, code, `${where}: ${text.slice(0, 300)}`);
    };

    it('every string in every request schema is bounded (maxLength, bounded pattern, enum or format)', () => {
      const unbounded: string[] = [];
      const walk = (s: Schema | undefined, at: string) => {
        if (!s || typeof s !== 'object') return;
        // An anchored pattern whose quantifiers are all bounded bounds the length too.
        const boundedPattern = typeof s.pattern === 'string' && /^\^.*\$$/.test(s.pattern) && !/[*+]/.test(s.pattern);
        if (
          s.type === 'string' &&
          s.maxLength === undefined &&
          !s.enum &&
          s.const === undefined &&
          !s.format &&
          !boundedPattern
        )
          unbounded.push(at);
        for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) walk(v, `${at}/${k}`);
        for (const v of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) walk(v, at);
        if (s.items) walk(s.items, `${at}/items`);
        if (s.additionalProperties && typeof s.additionalProperties === 'object')
          walk(s.additionalProperties, `${at}/*`);
        if (s.patternProperties) for (const v of Object.values(s.patternProperties)) walk(v as Schema, `${at}/*`);
      };
      for (const op of ops) {
        walk(op.body, `${op.method} ${op.path} body`);
        for (const p of op.params) walk(p.schema, `${op.method} ${op.path} ${p.in} ${p.name}`);
      }
      assert.deepEqual(unbounded, []);
    });

    it('every operation answers bad bodies and parameters with 4xx problem+json, and changes nothing', async () => {
      const before = await dbFingerprint(t);
      let sent = 0;
      for (const op of ops) {
        if (op.path === '/docs' || op.path.startsWith('/docs/')) continue;
        if (op.body) {
          for (const [what, raw] of badBodies(op.body)) {
            await send(what, op.method, urlOf(op), raw);
            sent++;
          }
          // Invalid UTF-8 (0xff 0xfe inside a string of a real member): refused as such, never repaired.
          const key = Object.keys(objectSchema(op.body)?.properties ?? { a: 1 })[0];
          const utf8 = Buffer.concat([Buffer.from(`{"${key}":"`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
          await send('invalid UTF-8', op.method, urlOf(op), utf8, 'MALFORMED_JSON');
          sent++;
        }
        for (const p of op.params) {
          const bad: [string, string][] = [
            ['huge', 'x'.repeat(5000)],
            ['invalid UTF-8', '%FF%FE'],
          ];
          if (p.schema.type === 'integer' || p.schema.type === 'number') {
            bad.push(['not a number', 'abc'], ['overflow', '1e400'], ['2^64', '18446744073709551616']);
          }
          if (p.schema.type === 'boolean') bad.push(['not a boolean', 'maybe']);
          if (p.schema.format === 'date-time') bad.push(['not a time', 'not-a-date']);
          for (const [what, value] of bad) {
            // Only reads get bad query parameters alone; a write keeps its (bad) body.
            if (p.in === 'path') {
              const raw = op.body ? '{}' : undefined;
              await send(`path ${p.name}: ${what}`, op.method, urlOf(op, { [p.name]: value }), raw);
              sent++;
            } else if (p.in === 'query') {
              await send(
                `query ${p.name}: ${what}`,
                op.method,
                urlOf(op, {}, `${p.name}=${value}`),
                op.body ? '[]' : undefined,
                what === 'invalid UTF-8' ? 'INVALID_QUERY' : undefined,
              );
              sent++;
            }
          }
        }
      }
      assert.ok(sent > 1000, `${sent} requests`);
      assert.equal(await dbFingerprint(t), before, 'the database is unchanged');
      assert.equal((await t.call('GET', '/readyz', { token: null })).status, 200);
    });
  });
}
