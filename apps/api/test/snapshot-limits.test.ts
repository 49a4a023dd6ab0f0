import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DB_MODES } from '@catchment/testkit';
import { buildWorld, getFrom, startTestApi, type TestApi } from './helpers.ts';

/** Snapshot distribution has its own limits, per consumer, and never starves a consumer of a new version. */
for (const mode of DB_MODES) {
  describe(`snapshot distribution limits on ${mode}`, () => {
    let t: TestApi;
    before(async () => {
      // A tight operator limit (per token) and a tight distribution limit (per consumer).
      t = await startTestApi(mode, {
        pollMs: 50,
        rateLimit: { max: 20, timeWindowMs: 60_000 },
        snapshotRateLimit: { max: 4, timeWindowMs: 60_000 },
      });
      await buildWorld(t);
    });
    after(() => t.close());

    const version = () => t.api.app.catchment.hub.latestKnown()?.version ?? 0;
    const publish = async (what: 'drain' | 'undrain') => {
      const r = await t.call('POST', `/v1/edges/lhr/${what}`, { body: { reason: 'limits test' } });
      assert.ok(r.status < 300, r.text);
    };
    const poll = (from: string, query: string) =>
      getFrom<{ version: number; code: string }>(`${t.url}/v1/snapshot?${query}`, from, {
        authorization: `Bearer ${t.tokens.agent}`,
      });

    it('a burst on the operator limit of a token does not reach its long-polls', async () => {
      const report = () =>
        t.call('POST', '/v1/reports', {
          token: t.tokens.agent,
          body: { consumer: 'burst', kind: 'dns', snapshotVersion: 1, healthy: true },
        });
      let last = 0;
      for (let i = 0; i < 25 && last !== 429; i++) last = (await report()).status;
      assert.equal(last, 429, 'the operator limit itself still holds');
      const n = version();
      const waiting = poll('127.0.0.2', `since=${n}&wait=30`);
      await new Promise((r) => setTimeout(r, 200));
      await publish('drain');
      const got = await waiting;
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.version, n + 1);
    });

    it('a consumer over its distribution limit still gets the newest version, and is told when to come back', async () => {
      const n = version();
      for (let i = 0; i < 4; i++) assert.equal((await poll('127.0.0.3', `since=${n}&wait=0`)).status, 304);
      // Over the limit now: this poll is held (not refused) until something newer exists.
      const held = poll('127.0.0.3', `since=${n}&wait=0`);
      await new Promise((r) => setTimeout(r, 200));
      // A second request while one is held is refused, with Retry-After.
      const second = await poll('127.0.0.3', `since=${n}&wait=0`);
      assert.equal(second.status, 429, second.text);
      assert.equal(second.body.code, 'RATE_LIMITED');
      assert.ok(Number(second.headers['retry-after']) >= 1, 'Retry-After in seconds');
      await publish('undrain');
      const got = await held;
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.version, n + 1, 'the held poll got the new version');
      // A version this consumer has not been sent is served at once, even over the limit.
      await publish('drain');
      const fresh = await poll('127.0.0.3', `since=${n + 1}`);
      assert.equal(fresh.status, 200, fresh.text);
      assert.equal(fresh.body.version, n + 2);
      // Another consumer with the same token has its own budget.
      assert.equal((await poll('127.0.0.4', `since=${n + 2}&wait=0`)).status, 304);
    });
  });
}
