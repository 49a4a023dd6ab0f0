import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DB_MODES } from '@catchment/testkit';
import { buildWorld, dbFingerprint, startTestApi, type TestApi } from './helpers.ts';

for (const mode of DB_MODES) {
  describe(`idempotency keys on ${mode}`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode);
      await buildWorld(t);
    });
    after(() => t.close());

    it('are scoped per token, and a replay returns the first response body, diff included', async () => {
      const headers = { 'idempotency-key': 'change-42' };
      const shift = { body: { reason: 'shift sin', params: { percent: 20 } }, headers };
      const first = await t.call('POST', '/v1/edges/sin/shift', shift);
      assert.equal(first.status, 201, first.text);
      assert.ok(first.body.diff.length > 0, 'the first response carries the snapshot diff');

      // Another token reusing the key gets its own, independent action.
      const other = await t.call('POST', '/v1/edges/lhr/drain', {
        token: t.tokens.operator,
        body: { reason: 'drain lhr' },
        headers,
      });
      assert.equal(other.status, 201, other.text);
      assert.equal(other.headers.get('idempotent-replayed'), null);
      assert.equal(other.body.action.kind, 'drain');
      assert.notEqual(other.body.action.id, first.body.action.id);
      assert.ok(other.body.diff.length > 0);

      // Each token's replay is exactly its own first response, and changes nothing.
      const before = await dbFingerprint(t);
      const replay = await t.call('POST', '/v1/edges/sin/shift', shift);
      assert.equal(replay.status, 201, replay.text);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(replay.body, first.body);
      const otherReplay = await t.call('POST', '/v1/edges/lhr/drain', {
        token: t.tokens.operator,
        body: { reason: 'drain lhr' },
        headers,
      });
      assert.equal(otherReplay.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(otherReplay.body, other.body);
      assert.equal(await dbFingerprint(t), before);

      // The same token reusing its key for a different request is still refused.
      const reused = await t.call('POST', '/v1/edges/sin/shift', {
        body: { reason: 'shift sin', params: { percent: 30 } },
        headers,
      });
      assert.equal(reused.status, 422, reused.text);
      assert.equal(reused.body.code, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal(reused.body.details.actionId, first.body.action.id);
    });
  });
}
