import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Db } from '@catchment/db';
import { TokenVerifier } from '../src/token-verifier.ts';
import { hashSecret } from '../src/tokens.ts';

/**
 * The verifier's memory of a scrypt check, with the token row read controlled by the test: a
 * request whose row read returns only after another request of the same token finished its
 * check must use that check, not run its own (under load, on PostgreSQL, the full suite saw
 * two checks for 50 concurrent first uses).
 */
describe('token verifier', () => {
  it('a request whose row read ends after another finished its check reuses that check', async () => {
    const lookup = '0123456789abcdef';
    const secret = 'A'.repeat(43);
    const row = {
      id: 7,
      lookup,
      name: 'fresh-agent',
      role: 'agent',
      scope: null,
      hash: await hashSecret(secret),
      revokedAt: null,
      expiresAt: null,
    };
    // Each row read waits until the test lets it go, in the order the test chooses.
    const reads: (() => void)[] = [];
    const db = {
      select: () => ({
        from: () => ({
          where: () =>
            new Promise<unknown[]>((resolve) => {
              reads.push(() => resolve([row]));
            }),
        }),
      }),
    } as unknown as Db;
    const outcomes: string[] = [];
    const verifier = new TokenVerifier(db, { onVerification: (o) => outcomes.push(o) });
    const token = `ct_${lookup}.${secret}`;
    const first = verifier.authenticate(token);
    const second = verifier.authenticate(token);
    await new Promise((r) => setImmediate(r));
    assert.equal(reads.length, 2, 'both requests read the row');
    reads[0]?.();
    assert.equal((await first)?.tokenId, 7);
    // The second request's read comes back only now, after the first check is remembered.
    reads[1]?.();
    assert.equal((await second)?.tokenId, 7);
    assert.deepEqual(outcomes, ['valid'], 'one scrypt check for both');
  });
});
