import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DB_MODES } from '@catchment/testkit';
import { buildWorld, startTestApi, type TestApi } from './helpers.ts';

// Issue 14 (after defect 15): viewers and operators read everything except tokens, and a token's
// name is token data; the audit log, actions and runs name token actors by id for them.
for (const mode of DB_MODES) {
  describe(`token actors as non-admins see them on ${mode}`, () => {
    let t: TestApi;
    let alice: string;
    let aliceId: number;
    before(async () => {
      t = await startTestApi(mode);
      await buildWorld(t);
      const made = await t.call('POST', '/v1/tokens', { body: { name: 'alice-oncall', role: 'operator' } });
      assert.equal(made.status, 201, made.text);
      alice = made.body.token;
      aliceId = made.body.info.id;
      assert.ok(Number.isInteger(aliceId), made.text);
      const drain = await t.call('POST', '/v1/edges/lhr/drain', { token: alice, body: { reason: 'maintenance' } });
      assert.equal(drain.status, 201, drain.text);
    });
    after(() => t.close());

    it('viewers and operators see token:#<id> wherever a token name would be', async () => {
      for (const role of ['viewer', 'operator'] as const) {
        for (const path of ['/v1/audit?limit=500', '/v1/actions']) {
          const r = await t.call('GET', path, { token: t.tokens[role] });
          assert.equal(r.status, 200, r.text);
          assert.equal(r.text.includes('alice-oncall'), false, `${role} reads no token name in ${path}`);
          assert.equal(r.text.includes('test-admin'), false, `${role} reads no token name in ${path}`);
          assert.ok(r.text.includes(`"token:#${aliceId}"`), `${role} still tells who acted in ${path}`);
        }
      }
      const entry = (await t.call('GET', '/v1/audit?action=drain', { token: t.tokens.viewer })).body.items[0];
      assert.equal(entry.actor, `token:#${aliceId}`);
      assert.equal(entry.after.actor, `token:#${aliceId}`, 'also inside the recorded action');
    });

    it('admins see names; everyone sees their own', async () => {
      const admin = await t.call('GET', '/v1/audit?action=drain');
      assert.equal(admin.body.items[0].actor, 'token:alice-oncall');
      const own = await t.call('GET', '/v1/actions', { token: alice });
      assert.ok(own.text.includes('"token:alice-oncall"'), 'the caller reads its own name');
      const whoami = await t.call('GET', '/v1/whoami', { token: t.tokens.viewer });
      assert.equal(whoami.body.name, 'test-viewer');
    });

    it('non-admins filter by token:#<id>; a name matches nothing, so it tells nothing', async () => {
      const byId = await t.call('GET', `/v1/audit?actor=${encodeURIComponent(`token:#${aliceId}`)}`, {
        token: t.tokens.viewer,
      });
      assert.equal(byId.status, 200, byId.text);
      assert.ok(byId.body.items.length >= 1);
      assert.ok(byId.body.items.every((i: { actor: string }) => i.actor === `token:#${aliceId}`));
      for (const name of ['token:alice-oncall', 'token:nobody']) {
        const byName = await t.call('GET', `/v1/audit?actor=${encodeURIComponent(name)}`, { token: t.tokens.viewer });
        assert.deepEqual(byName.body.items, [], name);
      }
      const adminByName = await t.call('GET', `/v1/audit?actor=${encodeURIComponent('token:alice-oncall')}`);
      assert.ok(adminByName.body.items.length >= 1, 'admins filter by name');
    });
  });
}
