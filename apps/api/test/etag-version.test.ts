import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportConfig, importConfig } from '@catchment/db';
import { DB_MODES } from '@catchment/testkit';
import { EDGES } from '@catchment/testkit/api-world';
import { buildWorld, dbFingerprint, startTestApi, type TestApi } from './helpers.ts';

// Issue 14 defect 18: an ETag must name a version, not the content, or a PUT that restores
// earlier content brings an old ETag back and a client holding it wins a write it should lose.
for (const mode of DB_MODES) {
  describe(`ETags that never repeat on ${mode}`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode);
      await buildWorld(t);
    });
    after(() => t.close());

    const cases = [
      { path: '/v1/edges/lhr', changed: { ...EDGES[3], capacity: { rps: 35000 } } },
      { path: '/v1/settings', changed: { maxEdgesShed: 3 } },
    ];
    for (const c of cases) {
      it(`${c.path}: restoring earlier content gives a new ETag; the old one loses with 412`, async () => {
        const original = await t.call('GET', c.path);
        assert.equal(original.status, 200, original.text);
        const a = original.headers.get('etag');
        assert.ok(a);
        const restoreBody = c.path === '/v1/settings' ? original.body.configured : original.body;

        const changed = await t.call('PUT', c.path, { body: c.changed, headers: { 'if-match': a } });
        assert.equal(changed.status, 200, changed.text);
        const b = changed.headers.get('etag');
        assert.ok(b);
        assert.notEqual(b, a);

        const restored = await t.call('PUT', c.path, { body: restoreBody, headers: { 'if-match': b } });
        assert.equal(restored.status, 200, restored.text);
        const cEtag = restored.headers.get('etag');
        assert.ok(cEtag);
        assert.deepEqual(
          c.path === '/v1/settings' ? restored.body.configured : restored.body,
          restoreBody,
          'the content is back',
        );
        assert.notEqual(cEtag, a, 'the restored object has a new ETag, not the first one');
        assert.notEqual(cEtag, b);

        // The current ETag still answers 304 (strong and weak comparison); the old one does not.
        const fresh = await t.call('GET', c.path, { headers: { 'if-none-match': cEtag } });
        assert.equal(fresh.status, 304);
        assert.equal(fresh.headers.get('etag'), cEtag);
        const weak = await t.call('GET', c.path, { headers: { 'if-none-match': `W/${cEtag}` } });
        assert.equal(weak.status, 304);
        const old = await t.call('GET', c.path, { headers: { 'if-none-match': a } });
        assert.equal(old.status, 200);
        assert.equal(old.headers.get('etag'), cEtag);

        const before = await dbFingerprint(t);
        const stale = await t.call('PUT', c.path, { body: c.changed, headers: { 'if-match': a } });
        assert.equal(stale.status, 412, stale.text);
        assert.equal(stale.body.code, 'PRECONDITION_FAILED');
        assert.equal(await dbFingerprint(t), before, 'the stale write changed nothing');

        // If-Match uses the strong comparison: a weak tag never matches (RFC 9110 §13.1.1).
        const weakMatch = await t.call('PUT', c.path, { body: c.changed, headers: { 'if-match': `W/${cEtag}` } });
        assert.equal(weakMatch.status, 412, weakMatch.text);

        const current = await t.call('PUT', c.path, { body: restoreBody, headers: { 'if-match': cEtag } });
        assert.equal(current.status, 200, 'the holder of the current ETag still writes');
      });
    }

    it('a configuration import that restores earlier content also gives a new ETag', async () => {
      const a = (await t.call('GET', '/v1/edges/sin')).headers.get('etag');
      assert.ok(a);
      const original = await exportConfig(t.database.db);
      const edges = original.edges.map((e) => (e.name === 'sin' ? { ...e, capacity: { rps: 12345 } } : e));
      const changed = await importConfig(t.database.db, { ...original, edges }, { actor: 'test' });
      assert.ok(changed.applied);
      const restored = await importConfig(t.database.db, original, { actor: 'test' });
      assert.ok(restored.applied);
      const now = await t.call('GET', '/v1/edges/sin');
      assert.notEqual(now.headers.get('etag'), a);
      const stale = await t.call('PUT', '/v1/edges/sin', { body: now.body, headers: { 'if-match': a } });
      assert.equal(stale.status, 412, stale.text);
    });
  });
}
