import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readWorld } from '@catchment/db';
import { DB_MODES } from '@catchment/testkit';
import { reportAgents } from '@catchment/testkit/api-harness';
import { buildWorld, startTestApi, type TestApi } from './helpers.ts';

/**
 * The route-change budget counts real announce/withdraw transitions: withdrawing and
 * restoring N times is N changes, a second withdrawal of a withdrawn prefix is refused as a
 * no-op (409 ALREADY_IN_EFFECT, force or not) and counts nothing, and a restore is never
 * blocked, not even with the budget spent.
 */
for (const mode of DB_MODES) {
  describe(`route-change budget through the API (${mode})`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode);
      await buildWorld(t);
    });
    after(() => t.close());

    const prefix = '198.18.4.0/24';
    const path = encodeURIComponent(prefix);
    const changes = async () =>
      (await readWorld(t.database.db, new Date())).routeChanges.filter((c) => c.prefix === prefix).length;

    it('withdraw and restore N times counts N; a duplicate withdrawal is a no-op; a restore is never blocked', async () => {
      assert.equal((await t.call('PUT', '/v1/settings', { body: { routeChangesPerPrefixPerHour: 8 } })).status, 200);
      // The supernet's announcers' agents report it exported: coverage holds.
      await reportAgents(t, { fra: null, iad: null, sin: null });
      let n = 0;
      for (let i = 0; i < 2; i++) {
        const w = await t.call('POST', `/v1/prefixes/${path}/withdraw`, { body: { reason: `w${i}` } });
        assert.equal(w.status, 201, w.text);
        assert.equal(await changes(), ++n);
        // The same withdrawal again changes nothing: refused, not forceable, not counted.
        for (const force of [false, true]) {
          const again = await t.call('POST', `/v1/prefixes/${path}/withdraw`, { body: { reason: 'again', force } });
          assert.equal(again.status, 409, again.text);
          assert.equal(again.body.code, 'ALREADY_IN_EFFECT');
          assert.equal(again.body.details.refusal.rule, 'no-op');
        }
        const dry = await t.call('POST', `/v1/prefixes/${path}/withdraw`, { body: { reason: 'dry', dryRun: true } });
        assert.equal(dry.body.refusal.rule, 'no-op');
        assert.equal(await changes(), n, 'a refused duplicate is not a change');
        const r = await t.call('POST', `/v1/prefixes/${path}/restore`, { body: { reason: `r${i}` } });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.reverted.length, 1);
        assert.equal(await changes(), ++n);
      }
      assert.equal(n, 4);
      // 4 changes of a budget of 6: a withdrawal needs 2 (itself and its restore).
      assert.equal((await t.call('PUT', '/v1/settings', { body: { routeChangesPerPrefixPerHour: 6 } })).status, 200);
      const fifth = await t.call('POST', `/v1/prefixes/${path}/withdraw`, { body: { reason: 'fifth' } });
      assert.equal(fifth.status, 201, fifth.text);
      // The budget shrinks while the prefix is withdrawn: the restore still goes through.
      assert.equal((await t.call('PUT', '/v1/settings', { body: { routeChangesPerPrefixPerHour: 2 } })).status, 200);
      const restore = await t.call('POST', `/v1/prefixes/${path}/restore`, { body: { reason: 'undo' } });
      assert.equal(restore.status, 200, restore.text);
      assert.equal(restore.body.refusal, null, 'a restore is never refused by the budget');
      assert.equal(await changes(), 6);
      const sixth = await t.call('POST', `/v1/prefixes/${path}/withdraw`, { body: { reason: 'over budget' } });
      assert.equal(sixth.status, 409);
      assert.equal(sixth.body.details.rule, 'route-budget');
      assert.equal(sixth.body.details.used, 6);
    });
  });
}
