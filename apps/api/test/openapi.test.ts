import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '@catchment/testkit';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestApi, type TestApi } from './helpers.ts';

describe('OpenAPI document', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi('pglite');
  });
  after(() => t.close());

  it('validates against the OpenAPI schema and lists every route with its responses', async () => {
    const doc = await t.call('GET', '/docs/json', { token: t.tokens.viewer });
    assert.equal(doc.status, 200);
    const result = await new Validator().validate(doc.body);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1)?.slice(0, 3000));
    const paths = doc.body.paths as Record<
      string,
      Record<string, { responses: Record<string, unknown>; security?: unknown[] }>
    >;
    const routes = t.api.app.catchment.routes.filter((r) => !r.hidden);
    assert.ok(routes.length > 60);
    for (const r of routes) {
      const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
      const op = paths[path]?.[r.method.toLowerCase()];
      assert.ok(op, `${r.method} ${r.url} is in the document`);
      assert.ok(
        Object.keys(op.responses).some((s) => s.startsWith('2')),
        `${r.method} ${r.url} documents success`,
      );
      if (r.access !== 'public')
        assert.ok(
          Object.keys(op.responses).some((s) => /^4/i.test(s)),
          `${r.method} ${r.url} documents problems`,
        );
    }
    assert.deepEqual(paths['/healthz']?.get?.security, [], 'health needs no token');
    assert.ok(doc.body.components.securitySchemes.bearer);
  });

  it('is ready for generated clients: operationIds, servers, ETag/304/412/429 where they happen', async () => {
    const doc = await t.call('GET', '/docs/json', { token: t.tokens.viewer });
    type Op = {
      operationId?: string;
      responses: Record<string, { headers?: Record<string, unknown> }>;
      parameters?: { name: string }[];
    };
    const paths = doc.body.paths as Record<string, Record<string, Op>>;
    const ids: string[] = [];
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(item)) {
        assert.ok(op.operationId, `${method} ${path} has an operationId`);
        ids.push(op.operationId);
      }
    }
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    assert.ok((doc.body.servers as unknown[]).length > 0);
    const snap = paths['/v1/snapshot']?.get;
    assert.ok(snap?.responses['304']?.headers?.ETag, 'the long-poll documents 304 with its ETag');
    assert.ok(snap?.parameters?.some((p) => p.name === 'If-None-Match'));
    const put = paths['/v1/edges/{name}']?.put;
    assert.ok(put?.responses['412'], 'a replace documents 412');
    assert.ok(put?.parameters?.some((p) => p.name === 'If-Match'));
    assert.ok(put?.responses['200']?.headers?.ETag);
    assert.ok(put?.responses['429']?.headers?.['Retry-After'], 'rate-limited operations document 429');
    assert.equal(paths['/healthz']?.get?.responses['429'], undefined, 'health is not rate limited');
    assert.equal(paths['/v1/edges']?.get?.responses['412'], undefined, 'a list has no If-Match');

    const dir = await tempDir('catchment-openapi-');
    try {
      const file = join(dir.path, 'openapi.json');
      await writeFile(file, JSON.stringify(doc.body));
      const redocly = new URL('../../../node_modules/.bin/redocly', import.meta.url).pathname;
      const { stdout, stderr } = await promisify(execFile)(redocly, ['lint', file], { cwd: dir.path });
      assert.match(stdout + stderr, /Your API description is valid/);
      assert.doesNotMatch(stdout + stderr, /error/i);
    } finally {
      await dir.remove();
    }
  });

  it('serves Swagger UI at /docs (with a token, Basic for browsers)', async () => {
    const basic = Buffer.from(`me:${t.tokens.viewer}`).toString('base64');
    const ui = await fetch(`${t.url}/docs/`, { headers: { authorization: `Basic ${basic}` } });
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger/i);
    const anon = await fetch(`${t.url}/docs/`);
    assert.equal(anon.status, 401);
    assert.match(String(anon.headers.get('www-authenticate')), /Basic/);
  });
});
