import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DB_MODES } from '@catchment/testkit';
import { createToken } from '../src/index.ts';
import { VerificationGate } from '../src/verification-limit.ts';
import { getFrom, startTestApi, type TestApi } from './helpers.ts';

/** `catchment_api_auth_verifications_total` by outcome, read through /metrics. */
async function verifications(t: TestApi): Promise<Record<string, number>> {
  const r = await t.call('GET', '/metrics');
  assert.equal(r.status, 200);
  const out: Record<string, number> = { valid: 0, invalid: 0, busy: 0 };
  for (const m of String(r.body).matchAll(/^catchment_api_auth_verifications_total\{outcome="(\w+)"\} (\d+)$/gm)) {
    out[m[1] as string] = Number(m[2]);
  }
  return out;
}

const delta = (a: Record<string, number>, b: Record<string, number>) =>
  Object.fromEntries(Object.keys(b).map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)]));

// Issue 14, defect 8: concurrent first uses of one token share one scrypt check, and scrypt
// work is bounded whatever arrives (a small gate with a bounded queue; past it 503 AUTH_BUSY).
for (const mode of DB_MODES) {
  describe(`token verification cost on ${mode}`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode, { authVerificationLimit: { concurrency: 1, queue: 2, maxWaitMs: 600_000 } });
      await verifications(t); // the admin token used for /metrics is verified once, here
    });
    after(() => t.close());

    it('50 concurrent first uses of a new token run one scrypt check', async () => {
      const { token } = await createToken(t.database.db, { name: 'fresh-agent', role: 'agent' });
      const before = await verifications(t);
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => t.call('GET', '/v1/snapshot', { token }).then((r) => r.status)),
      );
      assert.deepEqual(new Set(answers), new Set([404]), 'every request authenticated (no snapshot yet: 404)');
      assert.deepEqual(delta(before, await verifications(t)), { valid: 1, invalid: 0, busy: 0 });
    });

    it('concurrent uses of one wrong secret share one check too, and all get 401', async () => {
      const { token } = await createToken(t.database.db, { name: 'guessed', role: 'viewer' });
      const wrong = `${token.slice(0, token.indexOf('.'))}.${'B'.repeat(43)}`;
      const before = await verifications(t);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => t.call('GET', '/v1/edges', { token: wrong }).then((r) => r.status)),
      );
      assert.deepEqual(new Set(answers), new Set([401]));
      assert.deepEqual(delta(before, await verifications(t)), { valid: 0, invalid: 1, busy: 0 });
    });

    it('past the gate and its queue, checks are refused with 503 AUTH_BUSY and Retry-After; verified tokens are not', async () => {
      const made = await Promise.all(
        Array.from({ length: 8 }, (_, i) => createToken(t.database.db, { name: `flood-${i}`, role: 'viewer' })),
      );
      const wrongs = made.map(({ token }) => `Bearer ${token.slice(0, token.indexOf('.'))}.${'C'.repeat(43)}`);
      const before = await verifications(t);
      // Hold the gate's only turn, so what follows is decided by the bound, not by timing.
      let release = () => {};
      const held = t.api.app.catchment.tokens.gate.run(() => new Promise<void>((r) => (release = r)));
      // Distinct prefixes and client addresses: the failure limits do not apply, only the gate.
      const pending = wrongs.map((authorization, i) =>
        getFrom<{ code: string }>(`${t.url}/v1/edges`, `127.0.1.${i + 1}`, { authorization }),
      );
      const settled: { status: number; code?: string; retryAfter?: string | string[] }[] = [];
      for (const p of pending) {
        void p.then((r) => settled.push({ status: r.status, code: r.body.code, retryAfter: r.headers['retry-after'] }));
      }
      // Two wait in the queue; the other six are refused without any scrypt work.
      for (let i = 0; i < 600 && settled.length < 6; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(settled.length, 6, 'six refused while the gate is held');
      for (const s of settled) {
        assert.equal(s.status, 503);
        assert.equal(s.code, 'AUTH_BUSY');
        assert.equal(s.retryAfter, '1');
      }
      // A token verified earlier is served from memory, gate or not.
      assert.equal((await t.call('GET', '/v1/edges')).status, 200);
      assert.equal(t.api.app.catchment.tokens.gate.waiting, 2);
      release();
      await held;
      const rest = await Promise.all(pending);
      assert.deepEqual(
        rest.map((r) => r.status).sort(),
        [401, 401, 503, 503, 503, 503, 503, 503],
        'the two queued checks ran, one at a time, and found the secret wrong',
      );
      assert.deepEqual(delta(before, await verifications(t)), { valid: 0, invalid: 2, busy: 6 });
      assert.equal(t.api.app.catchment.tokens.gate.running, 0);
    });
  });
}

describe('the verification gate', () => {
  it('a waiter whose wait runs out leaves the queue with AUTH_BUSY; the turn still passes on', async () => {
    const gate = new VerificationGate({ concurrency: 1, queue: 2, maxWaitMs: 50 });
    let release = () => {};
    const held = gate.run(() => new Promise<void>((r) => (release = r)));
    await assert.rejects(
      gate.run(async () => 'never'),
      (err: { code?: string }) => err.code === 'AUTH_BUSY',
    );
    assert.equal(gate.waiting, 0, 'the timed-out waiter left the queue');
    const next = gate.run(async () => 'ran');
    assert.equal(gate.waiting, 1);
    release();
    await held;
    assert.equal(await next, 'ran', 'a waiter given its turn in time runs');
    assert.equal(gate.running, 0);
  });
});
