import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { canonicalJson } from '@catchment/core';
import { DB_MODES } from '@catchment/testkit';
import { EDGES } from '@catchment/testkit/api-world';
import { buildWorld, startTestApi, type TestApi } from './helpers.ts';

/** Every object served with an ETag in the fixture world. */
const WATCHED = [
  ...['fra', 'iad', 'sin', 'lhr'].map((e) => `/v1/edges/${e}`),
  ...['198.18.0.0/20', '198.18.1.0/24', '198.18.2.0/24', '198.18.3.0/24', '198.18.4.0/24'].map(
    (p) => `/v1/prefixes/${encodeURIComponent(p)}`,
  ),
  '/v1/zones/example.net',
  '/v1/policies/default',
  '/v1/services/www.example.net',
  '/v1/transits/transit-a',
  '/v1/slos/lhr-utilisation',
  '/v1/playbooks/shed',
  '/v1/settings',
];

const lhr24 = encodeURIComponent('198.18.4.0/24');

// Issue 14, defect 18, for actions: an ETag names one version of what GET returns. Actions
// (drain, withdraw, freeze...) are objects of their own and do not change what GET returns for
// an edge or prefix (GET /v1/edges/:name is the configuration; the effective state is in the
// snapshot and /v1/actions); whatever runs, an ETag is never served again once the object has
// shown another, and equal ETags always mean equal representations.
for (const mode of DB_MODES) {
  describe(`ETags across operator actions on ${mode}`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode);
      await buildWorld(t);
    });
    after(() => t.close());

    /** Per path: every (ETag, body) seen, in order. */
    const history = new Map<string, { etag: string; body: string }[]>();
    const observe = async (step: string) => {
      for (const path of WATCHED) {
        const r = await t.call('GET', path);
        assert.equal(r.status, 200, `${step}: GET ${path} ${r.text}`);
        const etag = r.headers.get('etag');
        assert.ok(etag, `${step}: ${path} has an ETag`);
        const seen = history.get(path) ?? [];
        const body = canonicalJson(r.body);
        const last = seen.at(-1);
        if (last && last.etag === etag) assert.equal(body, last.body, `${step}: ${path} changed under the same ETag`);
        if (!last || last.etag !== etag) {
          assert.ok(
            !seen.some((s) => s.etag === etag),
            `${step}: ${path} served an ETag again after it had shown another (${etag})`,
          );
          seen.push({ etag, body });
        }
        history.set(path, seen);
      }
    };
    const act = async (method: string, path: string, body: unknown, status = [200, 201]) => {
      const r = await t.call(method, path, { body });
      assert.ok(status.includes(r.status), `${method} ${path} → ${r.status} ${r.text}`);
      return r;
    };

    it('GET edge → drain → undrain: the edge is unchanged, its ETag stands, and a PUT with it keeps the drain', async () => {
      const first = await t.call('GET', '/v1/edges/lhr');
      const a = first.headers.get('etag');
      assert.ok(a);
      await act('POST', '/v1/edges/lhr/drain', { reason: 'etag test' });
      const drained = await t.call('GET', '/v1/edges/lhr');
      assert.deepEqual(drained.body, first.body, "a drain is an action, not a change of the edge's configuration");
      assert.equal(drained.headers.get('etag'), a);
      // The writer holding the ETag from before the drain changes the configuration: that is not
      // a lost update, the drain is untouched by it.
      const put = await t.call('PUT', '/v1/edges/lhr', {
        body: { ...EDGES[3], capacity: { rps: 31000 } },
        headers: { 'if-match': a },
      });
      assert.equal(put.status, 200, put.text);
      const b = put.headers.get('etag');
      assert.ok(b && b !== a);
      const snap = await t.call('GET', '/v1/snapshot');
      const lhr = snap.body.body.edges.find((e: { name: string }) => e.name === 'lhr');
      assert.equal(lhr.override, 'drain', 'the drain survives the configuration write');
      await act('POST', '/v1/edges/lhr/undrain', { reason: 'etag test' });
      const undrained = await t.call('GET', '/v1/edges/lhr');
      assert.equal(undrained.headers.get('etag'), b);
      // The ETag from before the configuration write loses, drain or not.
      const stale = await t.call('PUT', '/v1/edges/lhr', { body: EDGES[3], headers: { 'if-match': a } });
      assert.equal(stale.status, 412, stale.text);
      const back = await t.call('PUT', '/v1/edges/lhr', { body: EDGES[3], headers: { 'if-match': b } });
      assert.equal(back.status, 200, back.text);
      assert.notEqual(back.headers.get('etag'), a, 'restored content, new version');
    });

    it('GET prefix → withdraw → restore: the same, for prefixes', async () => {
      const first = await t.call('GET', `/v1/prefixes/${lhr24}`);
      const a = first.headers.get('etag');
      assert.ok(a);
      await act('POST', `/v1/prefixes/${lhr24}/withdraw`, { reason: 'etag test', force: true });
      const withdrawn = await t.call('GET', `/v1/prefixes/${lhr24}`);
      assert.deepEqual(withdrawn.body, first.body);
      assert.equal(withdrawn.headers.get('etag'), a);
      const { id: _id, ...config } = first.body;
      const put = await t.call('PUT', `/v1/prefixes/${lhr24}`, {
        body: { ...config, communities: ['64500:101'] },
        headers: { 'if-match': a },
      });
      assert.equal(put.status, 200, put.text);
      const active = await t.call('GET', '/v1/actions?active=true');
      assert.ok(
        active.body.items.some((x: { kind: string }) => x.kind === 'withdraw-unicast'),
        'the withdrawal survives the configuration write',
      );
      await act('POST', `/v1/prefixes/${lhr24}/restore`, { reason: 'etag test' });
      const restored = await t.call('GET', `/v1/prefixes/${lhr24}`);
      assert.equal(restored.headers.get('etag'), put.headers.get('etag'));
      const stale = await t.call('PUT', `/v1/prefixes/${lhr24}`, { body: config, headers: { 'if-match': a } });
      assert.equal(stale.status, 412, stale.text);
    });

    it('no ETag of any object is served again after it showed another, through every kind of action', async () => {
      await observe('start');
      const steps: [string, string, unknown][] = [
        ['POST', '/v1/edges/lhr/drain', { reason: 'x' }],
        ['POST', '/v1/edges/lhr/undrain', { reason: 'x' }],
        ['POST', `/v1/prefixes/${lhr24}/withdraw`, { reason: 'x', force: true }],
        ['POST', `/v1/prefixes/${lhr24}/restore`, { reason: 'x' }],
        ['POST', '/v1/automation/freeze', { reason: 'x' }],
        ['POST', '/v1/automation/unfreeze', { reason: 'x' }],
        ['POST', '/v1/edges/fra/freeze', { reason: 'x' }],
        ['POST', '/v1/edges/fra/unfreeze', { reason: 'x' }],
        ['POST', '/v1/edges/fra/shift', { reason: 'x', params: { percent: 10 } }],
        ['POST', '/v1/edges/fra/unshift', { reason: 'x' }],
        ['POST', '/v1/edges/sin/force-down', { reason: 'x', force: true }],
        ['POST', '/v1/edges/sin/release', { reason: 'x' }],
        [
          'POST',
          '/v1/edges/iad/communities',
          { reason: 'x', params: { communities: ['64500:2002'], transit: 'transit-a' } },
        ],
        ['POST', '/v1/edges/iad/clear-communities', { reason: 'x' }],
        ['PUT', '/v1/edges/lhr', { ...EDGES[3], capacity: { rps: 32000 } }],
        ['PUT', '/v1/edges/lhr', EDGES[3]],
        ['PUT', '/v1/settings', { maxEdgesShed: 2 }],
        ['PUT', '/v1/settings', {}],
      ];
      for (const [method, path, body] of steps) {
        await act(method, path, body);
        await observe(`${method} ${path}`);
      }
      // The configuration writes did give new versions (the check above is not vacuous).
      assert.ok((history.get('/v1/edges/lhr')?.length ?? 0) >= 3);
      assert.ok((history.get('/v1/settings')?.length ?? 0) >= 3);
    });
  });
}
