import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddress } from '@catchment/geo';
import { ServerCookies } from '../src/cookies.ts';

// RFC 9018 Appendix A: the published server cookies.
const VECTORS = [
  [
    'A.1',
    'e5e973e5a6b2a43f48e7dc849e37bfcf',
    '2464c4abcf10c957',
    '198.51.100.100',
    1559731985,
    '010000005cf79f111f8130c3eee29480',
  ],
  [
    'A.2',
    'e5e973e5a6b2a43f48e7dc849e37bfcf',
    '2464c4abcf10c957',
    '198.51.100.100',
    1559734385,
    '010000005cf7a871d4a564a1442aca77',
  ],
  [
    'A.3',
    'e5e973e5a6b2a43f48e7dc849e37bfcf',
    'fc93fc62807ddb86',
    '203.0.113.203',
    1559734700,
    '010000005cf7a9acf73a7810aca2381e',
  ],
  [
    'A.4',
    '445536bcd2513298075a5d379663c962',
    '22681ab97d52c298',
    '2001:db8:220:1:59de:d0f4:8769:82b8',
    1559741961,
    '010000005cf7c609a6bb79d16625507a',
  ],
] as const;

describe('interoperable server cookies (RFC 9018)', () => {
  for (const [name, secret, clientCookie, ip, at, want] of VECTORS) {
    it(`reproduces ${name} and accepts it back`, () => {
      const cookies = new ServerCookies({ secret });
      const client = parseAddress(ip)!.bytes;
      const msg = Buffer.from(clientCookie + want, 'hex');
      const out = new Uint8Array(16);
      cookies.issue(msg, 0, client, at, out, 0);
      assert.equal(Buffer.from(out).toString('hex'), want);
      assert.ok(cookies.valid(msg, 0, 8, 16, client, at + 60));
      assert.ok(!cookies.valid(msg, 0, 8, 16, client, at + 3601), 'expired after an hour');
      assert.ok(!cookies.valid(msg, 0, 8, 16, client, at - 301), 'too far in the future');
      const otherIp = Uint8Array.from(client);
      otherIp[otherIp.length - 1]! ^= 1;
      assert.ok(!cookies.valid(msg, 0, 8, 16, otherIp, at), 'bound to the client address');
    });
  }

  it('accepts cookies of the previous secret after a rotation, issues with the new one', () => {
    const [, secret, clientCookie, ip, at, want] = VECTORS[0];
    const rotated = new ServerCookies({ secret: '445536bcd2513298075a5d379663c962', previousSecret: secret });
    const client = parseAddress(ip)!.bytes;
    const msg = Buffer.from(clientCookie + want, 'hex');
    assert.ok(rotated.valid(msg, 0, 8, 16, client, at));
    const out = new Uint8Array(16);
    rotated.issue(msg, 0, client, at, out, 0);
    assert.notEqual(Buffer.from(out).toString('hex'), want);
    assert.ok(!new ServerCookies({ secret: '445536bcd2513298075a5d379663c962' }).valid(msg, 0, 8, 16, client, at));
  });
});
