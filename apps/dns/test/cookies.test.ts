import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sealSnapshot } from '@catchment/core';
import { ASN_DB, CITY_DB, demoBody } from '@catchment/testkit/geo-fixtures';
import { createDnsServer, type DnsServer } from '../src/index.ts';
import { buildQuery, dig, freePort, optRecord, type Running, rcodeOf, run, startServer, udpQuery } from './helpers.ts';

const SECRET = 'e5e973e5a6b2a43f48e7dc849e37bfcf';
const COOKIE = /COOKIE: ([0-9a-f]{16})([0-9a-f]{32}) \(good\)/;

/** dnspython: a burst of queries from one socket, with the given COOKIE option data (hex, or ''). */
const BURST = `
import sys, socket, dns.message, dns.edns, dns.flags
port, cookie, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
opts = [dns.edns.GenericOption(10, bytes.fromhex(cookie))] if cookie else []
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
for i in range(n):
    q = dns.message.make_query('example.net', 'A', use_edns=0, options=opts)
    s.sendto(q.to_wire(), ('127.0.0.1', port))
full = slipped = 0
seen = set()
try:
    while True:
        r = dns.message.from_wire(s.recv(4096))
        if r.flags & dns.flags.TC:
            slipped += 1
            continue
        full += 1
        for o in r.options:
            if o.otype == 10:
                seen.add(o.to_wire().hex() if hasattr(o, 'to_wire') else o.data.hex())
except socket.timeout:
    pass
print(full, slipped, ' '.join(sorted(seen)))
`;

async function burst(port: number, cookie: string, n: number): Promise<{ full: number; cookies: string[] }> {
  const { stdout } = await run('/usr/bin/python3', ['-c', BURST, String(port), cookie, String(n)]);
  const [full = '0', , ...cookies] = stdout.trim().split(' ');
  return { full: Number(full), cookies };
}

describe('DNS cookies (RFC 7873, RFC 9018) and RRL', () => {
  let s: Running;
  before(async () => {
    s = await startServer(demoBody(), {
      geo: { city: CITY_DB, asn: ASN_DB, watch: false },
      rrl: { responsesPerSecond: 5, slip: 0 },
      cookies: { secret: SECRET },
    });
  });
  after(async () => {
    await s?.stop();
  });

  it('answers a client cookie with a server cookie that dig accepts, and echoes a valid one', async () => {
    const first = await dig(s.port, '+cookie', 'example.net', 'SOA');
    const m = COOKIE.exec(first);
    assert.ok(m, first);
    const [, client, server] = m;
    assert.equal(server!.slice(0, 8), '01000000', 'version 1, reserved zero');
    const again = await dig(s.port, `+cookie=${client}${server}`, 'example.net', 'SOA');
    assert.match(again, new RegExp(`COOKIE: ${client}${server} \\(good\\)`), 'a fresh valid cookie is echoed');
    const none = await dig(s.port, '+nocookie', 'example.net', 'SOA');
    assert.doesNotMatch(none, /COOKIE/);
  });

  it('rejects malformed COOKIE options with FORMERR', async () => {
    for (const len of [7, 9, 15, 41]) {
      const q = buildQuery('example.net', 1, { opt: optRecord([[10, Buffer.alloc(len, 1)]]) });
      assert.equal(rcodeOf((await udpQuery(s.port, q))!), 1, `length ${len}`);
    }
  });

  it('exempts clients with a valid server cookie from rate limiting (dnspython)', async () => {
    const first = await burst(s.port, '0102030405060708', 1);
    const cookie = first.cookies[0]?.slice(-48) ?? '';
    assert.equal(cookie.length, 48, `server cookie learned: ${first.cookies.join(',')}`);
    assert.equal(cookie.slice(0, 16), '0102030405060708', 'our client cookie echoed');
    const valid = await burst(s.port, cookie, 60);
    assert.equal(valid.full, 60, 'every query with a valid cookie answered');
    const forged = `${cookie.slice(0, 46)}${cookie.slice(46) === '00' ? '01' : '00'}`;
    const invalid = await burst(s.port, forged, 60);
    assert.ok(invalid.full < 30, `a forged server cookie is rate limited: ${invalid.full} answered`);
    assert.ok(
      invalid.cookies.every((c) => !c.endsWith(forged.slice(16))),
      'an invalid cookie is replaced, never echoed',
    );
    const plain = await burst(s.port, '', 60);
    assert.ok(plain.full < 30, `no cookie: rate limited, ${plain.full} answered`);
    const metrics = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
    assert.match(metrics, /catchment_dns_cookies_total\{result="valid"\} [1-9]/);
    assert.match(metrics, /catchment_dns_cookies_total\{result="invalid"\} [1-9]/);
  });
});

describe('DNS cookie secret rotation', () => {
  let dns: DnsServer;
  let port: number;
  before(async () => {
    port = await freePort();
    dns = await createDnsServer({
      listen: [{ address: '127.0.0.1', port }],
      workers: 0,
      geo: { city: CITY_DB, asn: ASN_DB, watch: false },
      snapshot: sealSnapshot(1, demoBody()),
      http: { address: '127.0.0.1', port: 0 },
      cookies: { secret: SECRET },
    });
  });
  after(async () => {
    await dns?.close();
  });

  const valid = async () => {
    const m = await (await fetch(`http://127.0.0.1:${dns.httpPort}/metrics`)).text();
    return Number(/catchment_dns_cookies_total\{result="valid"\} (\d+)/.exec(m)?.[1] ?? 0);
  };
  /** Sends `cookie`; true when the server counted it valid. */
  const accepted = async (cookie: string) => {
    const before = await valid();
    const out = await dig(port, `+cookie=${cookie}`, 'example.net', 'SOA');
    assert.match(out, COOKIE, out);
    return (await valid()) > before;
  };

  it('accepts cookies of the previous secret after a rotation, and not after two', async () => {
    const m = COOKIE.exec(await dig(port, '+cookie', 'example.net', 'SOA'))!;
    const old = `${m[1]}${m[2]}`;
    assert.ok(await accepted(old));
    await dns.setCookieSecrets({ secret: '445536bcd2513298075a5d379663c962' });
    assert.ok(await accepted(old), 'still valid under the previous secret');
    const n = COOKIE.exec(await dig(port, '+cookie', 'example.net', 'SOA'))!;
    const fresh = `${n[1]}${n[2]}`;
    await dns.setCookieSecrets(); // a random new secret; the previous one stays accepted
    assert.ok(await accepted(fresh));
    assert.ok(!(await accepted(old)), 'two rotations later the first secret is gone');
    await assert.rejects(dns.setCookieSecrets({ secret: 'nothex' }), /32 hex digits/);
  });
});
