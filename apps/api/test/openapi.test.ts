import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
