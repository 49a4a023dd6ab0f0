import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SnapshotBody } from '@catchment/core';
import { ASN_DB, CITY_DB, demoBody } from '@catchment/testkit/geo-fixtures';
import { queryServer } from '../src/index.ts';
import {
  buildQuery,
  dig,
  ecsOption,
  optRecord,
  type Running,
  rcodeOf,
  run,
  startServer,
  status,
  udpQuery,
} from './helpers.ts';

const LONG = 'x'.repeat(300);

function body(): SnapshotBody {
  const b = demoBody();
  const z = b.zones[0]!;
  const rec = (name: string, type: string, value: string) =>
    z.records.push({ name, type: type as never, ttl: 300, value });
  rec('long.example.net', 'TXT', `"${LONG}"`);
  for (let i = 0; i < 40; i++) rec('big.example.net', 'TXT', `"record number ${i} with some padding to make it long"`);
  rec('sub.example.net', 'NS', 'ns.sub.example.net.');
  rec('ns.sub.example.net', 'A', '192.0.2.99');
  rec('*.wild.example.net', 'A', '192.0.2.77');
  rec('deep.ent.example.net', 'A', '192.0.2.78');
  rec('alias.example.net', 'CNAME', 'mail');
  rec('hop1.example.net', 'CNAME', 'hop2');
  rec('hop2.example.net', 'CNAME', 'docs.example.net.');
  rec('loop-a.example.net', 'CNAME', 'loop-b');
  rec('loop-b.example.net', 'CNAME', 'loop-a');
  rec('away.example.net', 'CNAME', 'hop3');
  rec('hop3.example.net', 'CNAME', 'cdn.example.org.');
  return b;
}

describe('authoritative protocol behaviour (real server, dig/kdig/dnspython)', () => {
  let s: Running;
  before(async () => {
    s = await startServer(body(), { geo: { city: CITY_DB, asn: ASN_DB, watch: false } });
  });
  after(async () => {
    await s?.stop();
  });

  it('answers static records with AA, case preserved, glue for MX', async () => {
    const out = await dig(s.port, 'ExAmPlE.NeT', 'MX', '+norec');
    assert.equal(status(out), 'NOERROR');
    assert.match(out, /flags: qr aa;/);
    assert.match(out, /;ExAmPlE\.NeT\.\s+IN\s+MX/);
    assert.match(out, /ExAmPlE\.NeT\.\s+3600\s+IN\s+MX\s+10 mail\.example\.net\./);
    assert.match(out, /mail\.example\.net\.\s+3600\s+IN\s+A\s+192\.0\.2\.25/);
    assert.match(await dig(s.port, 'example.net', 'CAA', '+short'), /0 issue "letsencrypt.org"/);
    assert.match(await dig(s.port, '_https._tcp.example.net', 'SRV', '+short'), /10 5 443 www\.example\.net\./);
    assert.match(
      await dig(s.port, 'docs.example.net', 'A'),
      /docs\.example\.net\.\s+3600\s+IN\s+CNAME\s+www\.example\.net\./,
    );
    const ns = await dig(s.port, 'example.net', 'NS');
    assert.match(ns, /IN\s+NS\s+ns1\.example\.net\./);
    assert.match(ns, /ns2\.example\.net\.\s+3600\s+IN\s+AAAA\s+2001:db8:ffff::53/);
    assert.match(
      await dig(s.port, 'example.net', 'SOA', '+short'),
      /ns1\.example\.net\. hostmaster\.example\.net\. 2026112201/,
    );
  });

  it('splits TXT strings over 255 bytes (dnspython reads them back whole)', async () => {
    const py = `
import dns.message, dns.query, dns.rdatatype
q = dns.message.make_query('long.example.net', 'TXT')
r = dns.query.udp(q, '127.0.0.1', port=${s.port}, timeout=2)
strings = r.answer[0][0].strings
print(len(strings), len(b''.join(strings)))
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', py]);
    assert.equal(stdout.trim(), '2 300');
  });

  it('follows in-zone CNAME chains, to static and to steered names', async () => {
    const steered = await dig(s.port, 'DOCS.example.net', 'A', '+subnet=81.2.69.142/32');
    assert.match(steered, /DOCS\.example\.net\.\s+3600\s+IN\s+CNAME\s+www\.example\.net\./);
    assert.match(steered, /www\.example\.net\.\s+30\s+IN\s+A\s+198\.18\.4\.10/);
    assert.match(steered, /CLIENT-SUBNET: 81\.2\.69\.142\/32\/31/);
    const py = `
import dns.message, dns.query, dns.rdatatype
q = dns.message.make_query('alias.example.net', 'A')
r = dns.query.udp(q, '127.0.0.1', port=${s.port}, timeout=2)
print(' '.join(f'{rr.name}:{dns.rdatatype.to_text(rr.rdtype)}:{rr[0]}' for rr in r.answer))
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', py]);
    assert.equal(stdout.trim(), 'alias.example.net.:CNAME:mail.example.net. mail.example.net.:A:192.0.2.25');
    assert.match(
      await dig(s.port, 'alias.example.net', 'TXT'),
      /ANSWER: 1,/,
      'only the CNAME when the target lacks the type',
    );
    // Three CNAMEs (hop1 → hop2 → docs → www, steered: London → lhr) and the address, by dnspython.
    const chain = `
import dns.edns, dns.message, dns.query, dns.rdatatype
def answer(name, qtype):
    q = dns.message.make_query(name, qtype, use_edns=0, options=[dns.edns.ECSOption('81.2.69.142', 32)])
    r = dns.query.udp(q, '127.0.0.1', port=${s.port}, timeout=2)
    return ' '.join(f'{rr.name}:{dns.rdatatype.to_text(rr.rdtype)}:{rr[0]}' for rr in r.answer)
print(answer('hop1.example.net', 'A'))
print(answer('loop-a.example.net', 'A'))
print(answer('away.example.net', 'A'))
print(answer('hop1.example.net', 'CNAME'))
`;
    const lines = (await run('/usr/bin/python3', ['-c', chain])).stdout.trim().split('\n');
    assert.equal(
      lines[0],
      'hop1.example.net.:CNAME:hop2.example.net. hop2.example.net.:CNAME:docs.example.net. ' +
        'docs.example.net.:CNAME:www.example.net. www.example.net.:A:198.18.4.10',
    );
    assert.equal(
      lines[1],
      'loop-a.example.net.:CNAME:loop-b.example.net. loop-b.example.net.:CNAME:loop-a.example.net.',
      'a loop ends the chain',
    );
    assert.equal(
      lines[2],
      'away.example.net.:CNAME:hop3.example.net. hop3.example.net.:CNAME:cdn.example.org.',
      'the chain stops where it leaves our zones',
    );
    assert.equal(lines[3], 'hop1.example.net.:CNAME:hop2.example.net.', 'QTYPE=CNAME gets the CNAME alone');
    assert.match(await dig(s.port, 'hop1.example.net', 'A', '+tcp'), /ANSWER: 4,/);
  });

  it('NXDOMAIN and NODATA carry the SOA with the negative TTL', async () => {
    const nx = await dig(s.port, 'nope.example.net', 'A');
    assert.equal(status(nx), 'NXDOMAIN');
    assert.match(nx, /AUTHORITY: 1/);
    assert.match(nx, /example\.net\.\s+60\s+IN\s+SOA/);
    const nodata = await dig(s.port, 'mail.example.net', 'AAAA');
    assert.equal(status(nodata), 'NOERROR');
    assert.match(nodata, /ANSWER: 0, AUTHORITY: 1/);
    const ent = await dig(s.port, 'ent.example.net', 'A');
    assert.equal(status(ent), 'NOERROR', 'an empty non-terminal is NODATA, not NXDOMAIN');
    assert.match(await dig(s.port, 'www.example.net', 'TXT'), /ANSWER: 0, AUTHORITY: 1/);
  });

  it('REFUSED outside our zones, for AXFR, and for other classes', async () => {
    assert.equal(status(await dig(s.port, 'example.org', 'A')), 'REFUSED');
    assert.equal(status(await dig(s.port, 'example.net', 'A', '-c', 'CH')), 'REFUSED');
    const axfr = await run('kdig', ['@127.0.0.1', '-p', String(s.port), '+tcp', 'example.net', 'AXFR']).catch(
      (e: { stdout: string; stderr: string }) => e,
    );
    assert.match(axfr.stdout + axfr.stderr, /REFUSED/);
  });

  it('answers ANY minimally (RFC 8482)', async () => {
    const out = await dig(s.port, 'example.net', 'ANY');
    assert.match(out, /ANSWER: 1,/);
    assert.match(out, /HINFO\s+"RFC8482" ""/);
  });

  it('refers below a zone cut with glue, and synthesises wildcards', async () => {
    const out = await dig(s.port, 'host.sub.example.net', 'A', '+norec');
    assert.equal(status(out), 'NOERROR');
    assert.doesNotMatch(out, /flags: qr aa/);
    assert.match(out, /sub\.example\.net\.\s+300\s+IN\s+NS\s+ns\.sub\.example\.net\./);
    assert.match(out, /ns\.sub\.example\.net\.\s+300\s+IN\s+A\s+192\.0\.2\.99/);
    assert.match(await dig(s.port, 'anything.wild.example.net', 'A', '+short'), /192\.0\.2\.77/);
  });

  it('FORMERR, NOTIMP and BADVERS', async () => {
    const notimp = await udpQuery(s.port, buildQuery('example.net', 1, { opcode: 2 }));
    assert.equal(rcodeOf(notimp!), 4);
    const two = buildQuery('example.net', 1);
    two.writeUInt16BE(2, 4);
    assert.equal(rcodeOf((await udpQuery(s.port, two))!), 1, 'QDCOUNT 2');
    const pointer = Buffer.concat([buildQuery('', 1).subarray(0, 12), Buffer.from([0xc0, 0x00, 0, 1, 0, 1])]);
    pointer.writeUInt16BE(1, 4);
    assert.equal(rcodeOf((await udpQuery(s.port, pointer))!), 1, 'compression pointer in the question');
    const badvers = (await udpQuery(s.port, buildQuery('example.net', 1, { opt: optRecord([], 1) })))!;
    assert.equal(rcodeOf(badvers), 0);
    const optAt = badvers.length - 11;
    assert.equal(badvers.readUInt16BE(optAt + 1), 41);
    assert.equal(badvers[optAt + 5], 1, 'extended rcode 1 → BADVERS (16)');
    const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(s.port), '+edns=1', '+noednsneg', 'example.net']);
    assert.equal(status(stdout), 'BADVERS');
    const response = buildQuery('example.net', 1, { flags: 0x80 });
    assert.equal(await udpQuery(s.port, response, 300), undefined, 'responses are never answered');
  });

  it('ECS: scope from the merged block, FORMERR on malformed options, none without ECS', async () => {
    const london = await dig(s.port, 'www.example.net', 'A', '+subnet=81.2.69.142/32');
    assert.match(london, /198\.18\.4\.10/);
    assert.match(london, /CLIENT-SUBNET: 81\.2\.69\.142\/32\/31/);
    const cn = await dig(s.port, 'www.example.net', 'A', '+subnet=175.16.199.0/24');
    assert.match(cn, /198\.18\.3\.10/, 'China → sin by the country rule');
    const miss = await dig(s.port, 'www.example.net', 'A', '+subnet=10.1.2.0/24');
    assert.match(miss, /198\.18\.0\.1/, 'private → anycast');
    assert.match(miss, /CLIENT-SUBNET: 10\.1\.2\.0\/24\/8/, 'a miss keeps the covering block, never /0');
    const mapped = await run('kdig', [
      '@127.0.0.1',
      '-p',
      String(s.port),
      'www.example.net',
      'A',
      '+subnet=::ffff:81.2.69.142/128',
    ]);
    assert.match(mapped.stdout, /198\.18\.4\.10/, 'IPv4-mapped ECS is looked up as IPv4');
    const v6 = await run('kdig', [
      '@127.0.0.1',
      '-p',
      String(s.port),
      'www.example.net',
      'AAAA',
      '+subnet=2001:218:1::/56',
    ]);
    assert.match(v6.stdout, /2001:db8:103::10/, 'IPv6 /56 in Japan → sin');
    assert.match(v6.stdout, /CLIENT-SUBNET: 2001:218:1::\/56\/32/, 'scope: the /32 network');
    const none = await dig(s.port, 'www.example.net', 'A');
    assert.doesNotMatch(none, /CLIENT-SUBNET/);
    const cookieFirst = optRecord([[10, Buffer.alloc(8, 7)], ecsOption(1, 24, 0, [81, 2, 69])]);
    const r = (await udpQuery(s.port, buildQuery('www.example.net', 1, { opt: cookieFirst })))!;
    assert.equal(rcodeOf(r), 0, 'an unknown option before ECS is skipped');
    for (const [name, opt] of [
      ['bad family', ecsOption(3, 24, 0, [1, 2, 3])],
      ['source too long', ecsOption(1, 33, 0, [1, 2, 3, 4, 5])],
      ['too many bytes', ecsOption(1, 16, 0, [1, 2, 3])],
      ['bits beyond prefix', ecsOption(1, 23, 0, [81, 2, 69])],
    ] as const) {
      const reply = (await udpQuery(s.port, buildQuery('www.example.net', 1, { opt: optRecord([opt]) })))!;
      assert.equal(rcodeOf(reply), 1, name);
    }
  });

  it('truncates to the client buffer with OPT kept, and the full answer comes over TCP', async () => {
    const udp = await dig(s.port, 'big.example.net', 'TXT', '+ignore', '+bufsize=1232');
    assert.match(udp, /flags: qr aa tc/);
    assert.match(udp, /OPT PSEUDOSECTION/);
    const noEdns = await dig(s.port, 'big.example.net', 'TXT', '+ignore', '+noedns');
    assert.match(noEdns, /tc/);
    const retried = await dig(s.port, 'big.example.net', 'TXT');
    assert.match(retried, /ANSWER: 40,/);
  });

  it('verifies its answers with the dns2 client (queryServer)', async () => {
    const r = await queryServer({
      address: '127.0.0.1',
      port: s.port,
      name: 'www.example.net',
      clientIp: '175.16.199.7',
    });
    assert.equal(r.rcode, 0);
    assert.deepEqual(r.addresses, ['198.18.3.10']);
  });

  it('serves IPv6 transport too', async () => {
    const { stdout } = await run('dig', ['@::1', '-p', String(s.port), '+short', 'example.net', 'MX']);
    assert.match(stdout, /10 mail\.example\.net\./);
  });

  it('exposes health and metrics', async () => {
    const h = await fetch(`http://127.0.0.1:${s.httpPort}/readyz`);
    assert.equal(h.status, 200);
    const m = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
    assert.match(m, /catchment_dns_queries_total\{rcode="NOERROR"\} \d+/);
    assert.match(m, /catchment_dns_snapshot_version 1/);
    assert.match(m, /catchment_dns_steered_answers_total\{service="www\.example\.net",edge="lhr"\} [1-9]/);
    assert.match(m, /catchment_dns_ecs_queries_total\{ecs="yes"\} [1-9]/);
    assert.match(m, /catchment_dns_queries_by_type_total\{qtype="MX"\} [1-9]/);
    assert.match(m, /catchment_dns_truncated_total [1-9]/);
  });
});

describe('response rate limiting', () => {
  let s: Running;
  before(async () => {
    s = await startServer(demoBody(), {
      geo: { city: CITY_DB, asn: ASN_DB, watch: false },
      rrl: { responsesPerSecond: 5, slip: 2 },
    });
  });
  after(async () => {
    await s?.stop();
  });

  it('drops most replies over the limit and slips every second one as truncated', async () => {
    const { createSocket } = await import('node:dgram');
    const sock = createSocket('udp4');
    const replies: Buffer[] = [];
    sock.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    for (let i = 0; i < 100; i++) sock.send(buildQuery('example.net', 1, { id: i }), s.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 1000));
    sock.close();
    const full = replies.filter((m) => (m[2]! & 0x02) === 0);
    const slipped = replies.filter((m) => (m[2]! & 0x02) !== 0);
    assert.ok(full.length >= 5 && full.length < 50, `${full.length} full replies`);
    assert.ok(slipped.length > 10, `${slipped.length} truncated slips`);
    assert.ok(replies.length < 100, 'some were dropped');
    const m = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
    assert.match(m, /catchment_dns_rrl_total\{action="drop"\} [1-9]/);
  });
});
