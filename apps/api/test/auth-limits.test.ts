import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DB_MODES } from '@catchment/testkit';
import { AUTH_FAILURES } from '../src/auth.ts';
import { getFrom, startTestApi, type TestApi } from './helpers.ts';

/** Failed authentication is limited per client address and per token prefix. */
for (const mode of DB_MODES) {
  describe(`failed authentication limits on ${mode}`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode, { authFailureLimit: AUTH_FAILURES });
    });
    after(() => t.close());

    const get = (from: string, authorization?: string) =>
      getFrom<{ code: string }>(`${t.url}/v1/edges`, from, authorization ? { authorization } : {});

    it('limits wrong secrets of one token prefix, and requests without a token, with 429 and Retry-After', async () => {
      const lookup = t.tokens.viewer.slice(0, t.tokens.viewer.indexOf('.'));
      const wrong = `Bearer ${lookup}.${'A'.repeat(43)}`;
      let last = 0;
      for (let i = 0; i < 60 && last !== 429; i++) last = (await get('127.0.0.6', wrong)).status;
      assert.equal(last, 429, 'wrong secrets are limited');
      // The same prefix from another address is limited too (per token prefix).
      const elsewhere = await get('127.0.0.8', wrong);
      assert.equal(elsewhere.status, 429);
      assert.equal(elsewhere.body.code, 'RATE_LIMITED');
      assert.ok(Number(elsewhere.headers['retry-after']) >= 1);
      let anon = 0;
      for (let i = 0; i < 60 && anon !== 429; i++) anon = (await get('127.0.0.7')).status;
      assert.equal(anon, 429, 'requests without a token are limited per address');
      // A good token from a clean address is not affected.
      assert.equal((await get('127.0.0.9', `Bearer ${t.tokens.operator}`)).status, 200);
    });

    it('counts checks in flight: concurrent wrong secrets for one prefix run at most the limit of scrypt checks', async () => {
      const { createToken } = await import('../src/index.ts');
      const { token } = await createToken(t.database.db, { name: 'concurrent-guess', role: 'viewer' });
      const lookup = token.slice(0, token.indexOf('.'));
      const invalid = async () =>
        Number(
          /^catchment_api_auth_verifications_total\{outcome="invalid"\} (\d+)$/m.exec(
            (await t.call('GET', '/metrics')).text,
          )?.[1] ?? 0,
        );
      const before = await invalid();
      // 40 distinct wrong secrets at once, each from its own address: only the prefix limit applies.
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          get(`127.0.5.${i + 1}`, `Bearer ${lookup}.${`g${i}`.padEnd(43, 'A')}`).then((r) => r.status),
        ),
      );
      const checks = (await invalid()) - before;
      assert.equal(answers.filter((s) => s === 401).length, AUTH_FAILURES.max, 'as many 401 as the limit');
      assert.equal(answers.filter((s) => s === 429).length, 40 - AUTH_FAILURES.max, 'the rest 429');
      assert.equal(checks, AUTH_FAILURES.max, 'no more scrypt checks than the limit');
      // Another token, verified before, is unaffected.
      assert.equal((await get('127.0.5.200', `Bearer ${t.tokens.admin}`)).status, 200);
    });
  });
}
