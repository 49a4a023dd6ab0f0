import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type SnapshotBody, sealSnapshot } from '@catchment/core';
import { buildSteering, GeoDb } from '@catchment/geo';
import { TEST_KEK, type TestZoneKeys, testZoneKeys } from '@catchment/testkit';
import { ASN_DB, CITY_DB, demoBody } from '@catchment/testkit/geo-fixtures';
import { newSignatureCache } from '../src/dnssec/signer.ts';
import { dumpSignedZone } from '../src/index.ts';
import { compileZones } from '../src/zone/compile.ts';
import { buildQuery, dig, freePort, type Running, run, startServer, status, udpQuery } from './helpers.ts';

/**
 * Online DNSSEC checked by real validators: delv (BIND), drill and ldns-verify-zone (ldns), and
 * unbound as a validating, ECS-sending resolver with the zone's trust anchor.
 */
process.env.CATCHMENT_DNSSEC_KEK = TEST_KEK.toString('hex');

function signedBody(keys: TestZoneKeys): SnapshotBody {
  const body = demoBody();
  const zone = body.zones[0]!;
  zone.dnssec = keys.dnssec;
  // A TXT RRset that fits 1232 bytes unsigned but not with its signature.
  const text = `"${'x'.repeat(250)}"`;
  for (let i = 0; i < 4; i++) {
    zone.records.push({ name: 'big.example.net', type: 'TXT', ttl: 300, value: `"${String(i).repeat(20)}" ${text}` });
  }
  zone.records.push({ name: '*.wild.example.net', type: 'A', ttl: 300, value: '192.0.2.77' });
  // Wildcards that expand to CNAME chains: to a steered name, and through a second CNAME.
  zone.records.push({ name: '*.alias.example.net', type: 'CNAME', ttl: 300, value: 'docs.example.net.' });
  zone.records.push({ name: '*.away.example.net', type: 'CNAME', ttl: 300, value: 'far.example.net.' });
  zone.records.push({ name: 'far.example.net', type: 'CNAME', ttl: 300, value: 'mail.example.net.' });
  // A delegation (insecure: no DS) whose glue is a loopback address the child server listens on.
  zone.records.push({ name: 'sub.example.net', type: 'NS', ttl: 3600, value: 'ns1.sub.example.net.' });
  zone.records.push({ name: 'ns1.sub.example.net', type: 'A', ttl: 3600, value: CHILD_ADDRESS });
  return body;
}

/** Where the delegated child zone's server listens (port 53: resolvers follow glue there). */
const CHILD_ADDRESS = `127.53.${(process.pid % 250) + 1}.1`;

/** The child zone `sub.example.net`, unsigned, served by a second server. */
function childBody(): SnapshotBody {
  const body = demoBody();
  body.services = [];
  body.policies = [];
  body.zones = [
    {
      ...body.zones[0]!,
      name: 'sub.example.net',
      soa: { ...body.zones[0]!.soa, mname: 'ns1.sub.example.net', rname: 'hostmaster.sub.example.net' },
      ns: ['ns1.sub.example.net'],
      records: [
        { name: 'ns1.sub.example.net', type: 'A', ttl: 3600, value: CHILD_ADDRESS },
        { name: 'host.sub.example.net', type: 'A', ttl: 300, value: '192.0.2.99' },
      ],
    },
  ];
  return body;
}

function anchorFiles(dir: string, keys: TestZoneKeys) {
  const [, , , tag, alg, type, digest] = keys.ds[0]!.split(/\s+/);
  const delv = join(dir, 'delv.conf');
  writeFileSync(delv, `trust-anchors {\n  example.net. static-ds ${tag} ${alg} ${type} "${digest}";\n};\n`);
  const key = join(dir, 'anchor.key');
  writeFileSync(key, `${keys.dnskeys.join('\n')}\n`);
  const ds = join(dir, 'anchor.ds');
  writeFileSync(ds, `${keys.ds.join('\n')}\n`);
  return { delv, key, ds };
}

describe('DNSSEC (online signing, compact denial)', () => {
  let s: Running;
  let dir = '';
  let keys: TestZoneKeys;
  let anchors: ReturnType<typeof anchorFiles>;

  before(async () => {
    keys = testZoneKeys('example.net');
    dir = mkdtempSync(join(tmpdir(), 'catchment-dnssec-'));
    anchors = anchorFiles(dir, keys);
    s = await startServer(signedBody(keys), { geo: { city: CITY_DB, asn: ASN_DB, watch: false } });
  });
  after(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const delv = async (...args: string[]) => {
    const r = await run('delv', [
      '-a',
      anchors.delv,
      '+root=example.net',
      '@127.0.0.1',
      '-p',
      String(s.port),
      ...args,
    ]).then(
      (x) => x.stdout + x.stderr,
      (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
    );
    return r;
  };

  it('adds signatures only when the query sets DO', async () => {
    const plain = await dig(s.port, '+norec', 'www.example.net', 'A');
    assert.doesNotMatch(plain, /RRSIG/);
    const signed = await dig(s.port, '+norec', '+dnssec', 'www.example.net', 'A');
    assert.match(signed, /IN\s+RRSIG\s+A 13 3 30 /);
    const nx = await dig(s.port, '+norec', 'nope.example.net', 'A');
    assert.equal(status(nx), 'NXDOMAIN');
    assert.doesNotMatch(nx, /NSEC/);
  });

  it('delv fully validates steered, static, CNAME-chained and key answers', async () => {
    for (const q of [
      ['www.example.net', 'A'],
      ['www.example.net', 'AAAA'],
      ['example.net', 'SOA'],
      ['example.net', 'MX'],
      ['example.net', 'NS'],
      ['example.net', 'DNSKEY'],
      ['example.net', 'CDS'],
      ['example.net', 'CDNSKEY'],
      ['docs.example.net', 'A'],
      ['_https._tcp.example.net', 'SRV'],
      ['host.wild.example.net', 'A'],
    ]) {
      const out = await delv(...q);
      assert.match(out, /; fully validated/, `${q.join(' ')}: ${out}`);
    }
  });

  it('delv validates compact denial for NXDOMAIN, NODATA, empty non-terminals and wildcards', async () => {
    for (const q of [
      ['nope.example.net', 'A'],
      ['deep.nope.example.net', 'AAAA'],
      ['www.example.net', 'TXT'],
      ['example.net', 'A'],
      ['_tcp.example.net', 'A'],
      ['other.wild.example.net', 'TXT'],
    ]) {
      const out = await delv(...q);
      assert.match(out, /negative response, fully validated/, `${q.join(' ')}: ${out}`);
    }
  });

  it('answers compact denial as NOERROR with an NXNAME NSEC, and NXDOMAIN when the query sets CO', async () => {
    const out = await dig(s.port, '+norec', '+dnssec', 'nope.example.net', 'A');
    assert.equal(status(out), 'NOERROR');
    assert.match(out, /nope\.example\.net\.\s+60\s+IN\s+NSEC\s+\\000\.nope\.example\.net\. RRSIG NSEC TYPE128/);
    const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0xc0, 0, 0, 0]);
    const reply = await udpQuery(s.port, buildQuery('nope.example.net', 1, { opt }));
    assert.ok(reply);
    assert.equal(reply[3]! & 0x0f, 3);
    assert.equal(reply.readUInt16BE(8) >= 4, true, 'SOA, NSEC and their signatures');
  });

  it('truncates a signed answer over 1232 bytes and carries it whole over TCP', async () => {
    const plain = await dig(s.port, '+norec', '+bufsize=1232', '+ignore', 'big.example.net', 'TXT');
    assert.doesNotMatch(plain, /flags:[^;]*\btc\b/);
    const signed = await dig(s.port, '+norec', '+dnssec', '+bufsize=1232', '+ignore', 'big.example.net', 'TXT');
    assert.match(signed, /flags:[^;]*\btc\b/);
    const tcp = await dig(s.port, '+norec', '+dnssec', '+tcp', 'big.example.net', 'TXT');
    assert.match(tcp, /RRSIG\s+TXT 13 3 300 /);
    assert.match(await delv('+tcp', 'big.example.net', 'TXT'), /; fully validated/);
  });

  it('delv validates wildcards that expand to CNAME chains', async () => {
    for (const q of [
      ['host.alias.example.net', 'A'],
      ['host.alias.example.net', 'AAAA'],
      ['host.alias.example.net', 'CNAME'],
      ['host.away.example.net', 'A'],
      ['host.away.example.net', 'TXT'],
    ]) {
      const out = await delv(...q);
      assert.match(out, /; fully validated/, `${q.join(' ')}: ${out}`);
      // TXT: the chain ends in a validated NODATA at its target (delv: "ncache nxrrset").
      assert.doesNotMatch(out, /no valid|broken trust chain|insecurity proof failed/, `${q.join(' ')}: ${out}`);
    }
    // The expanded CNAME is signed as owned by the query name (labels = its own count), and the
    // second CNAME of the chain carries its own signature.
    const out = await dig(s.port, '+norec', '+dnssec', 'host.away.example.net', 'A');
    assert.match(out, /host\.away\.example\.net\.\s+300\s+IN\s+RRSIG\s+CNAME 13 4 300 /);
    assert.match(out, /far\.example\.net\.\s+300\s+IN\s+RRSIG\s+CNAME 13 3 300 /);
    assert.match(out, /mail\.example\.net\.\s+3600\s+IN\s+RRSIG\s+A 13 3 3600 /);
  });

  it('answers DS at a delegation from the parent side: signed NODATA (RFC 4035 §3.1.4.1)', async () => {
    const out = await dig(s.port, '+norec', '+dnssec', 'sub.example.net', 'DS');
    assert.equal(status(out), 'NOERROR');
    assert.match(out, /flags:[^;]*\baa\b/, out);
    assert.match(out, /ANSWER: 0,/);
    assert.match(out, /example\.net\.\s+60\s+IN\s+SOA\s/);
    assert.match(out, /sub\.example\.net\.\s+60\s+IN\s+NSEC\s+\\000\.sub\.example\.net\. NS RRSIG NSEC\n/);
    assert.match(await delv('sub.example.net', 'DS'), /negative response, fully validated/);
    const plain = await dig(s.port, '+norec', 'sub.example.net', 'DS');
    assert.match(plain, /flags:[^;]*\baa\b/, plain);
    assert.match(plain, /example\.net\.\s+60\s+IN\s+SOA\s/);
  });

  it('refers below a cut with an unsigned NS RRset and glue, and a signed proof that there is no DS', async () => {
    for (const name of ['sub.example.net', 'host.sub.example.net']) {
      const out = await dig(s.port, '+norec', '+dnssec', name, 'A');
      assert.doesNotMatch(out, /flags:[^;]*\baa\b/, out);
      assert.match(out, /ANSWER: 0, AUTHORITY: 3, ADDITIONAL: 2/, out);
      assert.match(out, /sub\.example\.net\.\s+3600\s+IN\s+NS\s+ns1\.sub\.example\.net\./);
      assert.match(out, /sub\.example\.net\.\s+60\s+IN\s+NSEC\s+\\000\.sub\.example\.net\. NS RRSIG NSEC\n/);
      assert.match(out, /sub\.example\.net\.\s+60\s+IN\s+RRSIG\s+NSEC 13 3 60 /);
      assert.doesNotMatch(out, /RRSIG\s+(NS|A) /, 'delegation NS and glue are not signed (RFC 4035 §2.2)');
      assert.match(out, /ns1\.sub\.example\.net\.\s+3600\s+IN\s+A\s+127\.53\./);
    }
  });

  it('drill -S chases a steered answer to the trust anchor', async () => {
    const { stdout } = await run('drill', [
      '-S',
      '-k',
      anchors.key,
      '@127.0.0.1',
      '-p',
      String(s.port),
      'www.example.net',
      'A',
    ]);
    assert.match(stdout, /Chase successful/);
  });

  it('ldns-verify-zone verifies a dump of the static part', async () => {
    const body = signedBody(keys);
    const file = join(dir, 'example.net.zone');
    writeFileSync(file, dumpSignedZone(body.zones[0]!, TEST_KEK));
    const { stdout } = await run('ldns-verify-zone', ['-k', anchors.ds, file]);
    assert.match(stdout, /Zone is verified and complete/);
  });

  it('serves an Ed25519 CSK zone after a snapshot swap (algorithm 15)', async () => {
    const csk = testZoneKeys('example.net', { algorithm: 15, layout: 'csk' });
    const other = anchorFiles(mkdtempSync(join(dir, 'csk-')), csk);
    await s.push(sealSnapshot(2, signedBody(csk)));
    const out = await run('delv', [
      '-a',
      other.delv,
      '+root=example.net',
      '@127.0.0.1',
      '-p',
      String(s.port),
      'www.example.net',
      'A',
    ]);
    assert.match(out.stdout + out.stderr, /; fully validated/);
    assert.match(out.stdout, /RRSIG\s+A 15 3 /);
    const neg = await run('delv', [
      '-a',
      other.delv,
      '+root=example.net',
      '@127.0.0.1',
      '-p',
      String(s.port),
      'nope.example.net',
      'A',
    ]).catch((e) => e);
    assert.match(`${neg.stdout}${neg.stderr}`, /negative response, fully validated/);
    await s.push(sealSnapshot(3, signedBody(keys)));
  });

  it('validates in every rollover state: pre-published ZSK, double-signed KSK under either DS', async () => {
    const next = testZoneKeys('example.net');
    const [ksk, zsk] = keys.dnssec.keys;
    const [newKsk, newZsk] = next.dnssec.keys;
    const rolling = signedBody(keys);
    rolling.zones[0]!.dnssec = {
      ...keys.dnssec,
      keys: [
        ksk!,
        zsk!,
        // ZSK pre-published: in DNSKEY, not signing, no private key shipped.
        { ...newZsk!, signing: false, privateKey: undefined as never },
        // KSK double signature: both sign the DNSKEY RRset; CDS still names the old one.
        { ...newKsk!, ds: false },
      ].map((k) => Object.fromEntries(Object.entries(k).filter(([, v]) => v !== undefined)) as typeof k),
    };
    await s.push(sealSnapshot(6, rolling));
    const dnskeys = await dig(s.port, '+norec', '+dnssec', 'example.net', 'DNSKEY');
    assert.equal((dnskeys.match(/\d\s+IN\s+DNSKEY\s/g) ?? []).length, 4);
    assert.equal((dnskeys.match(/IN\s+RRSIG\s+DNSKEY /g) ?? []).length, 2, 'signed by both KSKs');
    const a = await dig(s.port, '+norec', '+dnssec', 'www.example.net', 'A');
    assert.equal((a.match(/IN\s+RRSIG\s+A /g) ?? []).length, 1, 'only the active ZSK signs');
    const cds = await dig(s.port, '+norec', 'example.net', 'CDS');
    assert.match(cds, new RegExp(`CDS\\s+${ksk!.tag} 13 2 `));
    assert.match(await delv('www.example.net', 'A'), /; fully validated/, 'old DS');
    const other = anchorFiles(mkdtempSync(join(dir, 'new-ksk-')), next);
    const withNew = await run('delv', [
      '-a',
      other.delv,
      '+root=example.net',
      '@127.0.0.1',
      '-p',
      String(s.port),
      'example.net',
      'SOA',
    ]);
    assert.match(withNew.stdout + withNew.stderr, /; fully validated/, 'new DS');
    await s.push(sealSnapshot(7, signedBody(keys)));
  });

  it('serves the zone unsigned when signing is off (no dnssec block)', async () => {
    const body = signedBody(keys);
    delete body.zones[0]!.dnssec;
    await s.push(sealSnapshot(4, body));
    const out = await dig(s.port, '+norec', '+dnssec', 'www.example.net', 'A');
    assert.doesNotMatch(out, /RRSIG/);
    assert.doesNotMatch(await dig(s.port, '+norec', '+dnssec', 'example.net', 'DNSKEY'), /DNSKEY\s+25[67]/);
    await s.push(sealSnapshot(5, signedBody(keys)));
  });
});

describe('DNSSEC key problems', () => {
  it('serves a zone unsigned, and says why, when the KEK does not open its keys', () => {
    const body = signedBody(testZoneKeys('example.net'));
    const snap = sealSnapshot(1, body);
    const geo = new GeoDb({ city: CITY_DB, watch: false });
    try {
      const wrong = compileZones(snap, buildSteering(snap.body, geo), {
        kek: Buffer.alloc(32, 9),
        cache: newSignatureCache(),
      });
      assert.match(wrong.problems.join('\n'), /zone example\.net: DNSSEC keys unusable .*KEK/);
      assert.equal(wrong.signers[0], undefined);
      const none = compileZones(snap, buildSteering(snap.body, geo), { kek: undefined, cache: newSignatureCache() });
      assert.match(none.problems.join('\n'), /no key-encryption key/);
      const right = compileZones(snap, buildSteering(snap.body, geo), { kek: TEST_KEK, cache: newSignatureCache() });
      assert.deepEqual(right.problems, []);
      assert.ok(right.signers[0]);
      assert.ok(right.resignAt > Date.now() / 1000 + 6 * 86400, 'renewal due when refresh (7 d) is left');
    } finally {
      geo.close();
    }
  });
});

/** unbound validating with the zone's trust anchor, sending ECS for several clients. */
describe('DNSSEC through unbound (validating, ECS)', () => {
  let s: Running;
  let child: Running;
  let unbound: ChildProcess;
  let port = 0;
  let dir = '';

  before(async () => {
    const keys = testZoneKeys('example.net');
    s = await startServer(signedBody(keys), { geo: { city: CITY_DB, asn: ASN_DB, watch: false } });
    // The child zone's server, where the referral's glue points.
    child = await startServer(childBody(), { listen: [{ address: CHILD_ADDRESS, port: 53 }] });
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'catchment-unbound-dnssec-'));
    const conf = join(dir, 'unbound.conf');
    writeFileSync(
      conf,
      `server:
  interface: 127.0.0.1
  port: ${port}
  do-ip6: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 0
  do-daemonize: no
  access-control: 127.0.0.0/8 allow
  module-config: "subnetcache validator iterator"
  send-client-subnet: 127.0.0.1
  max-client-subnet-ipv4: 32
  do-not-query-localhost: no
  qname-minimisation: no
  prefetch: no
  trust-anchor: "${keys.ds[0]!.replace(' IN ', ' ')}"
  val-log-level: 2
stub-zone:
  name: "example.net"
  stub-addr: 127.0.0.1@${s.port}
`,
    );
    unbound = spawn('unbound', ['-d', '-c', conf], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      const ok = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=1', '+tries=1', 'example.net', 'SOA']).then(
        () => true,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  after(async () => {
    if (unbound && unbound.exitCode === null) {
      const exited = new Promise((r) => unbound.once('exit', r));
      unbound.kill('SIGTERM');
      await exited;
    }
    await s?.stop();
    await child?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ask = (...args: string[]) =>
    run('dig', ['@127.0.0.1', '-p', String(port), '+time=3', '+tries=1', '+dnssec', ...args]).then((r) => r.stdout);
  const ad = (out: string) => /flags:[^;]*\bad\b/.test(out);

  it('validates steered answers for ECS clients in several places (AD set)', async () => {
    const answers = new Set<string>();
    for (const subnet of ['81.2.69.0/24', '175.16.199.0/24', '89.160.20.0/24', '10.1.0.0/16']) {
      const out = await ask('www.example.net', 'A', `+subnet=${subnet}`);
      assert.equal(status(out), 'NOERROR', out);
      assert.ok(ad(out), `AD for ${subnet}: ${out}`);
      answers.add(/www\.example\.net\.\s+\d+\s+IN\s+A\s+(\S+)/.exec(out)?.[1] ?? '');
    }
    assert.ok(answers.size >= 2, `different edges for different clients: ${[...answers]}`);
  });

  it('validates NXDOMAIN and NODATA (AD set)', async () => {
    const nx = await ask('nope.example.net', 'A');
    assert.ok(ad(nx), nx);
    assert.ok(['NXDOMAIN', 'NOERROR'].includes(status(nx)));
    assert.doesNotMatch(nx, /ANSWER: [1-9]/);
    const nodata = await ask('www.example.net', 'TXT');
    assert.equal(status(nodata), 'NOERROR');
    assert.ok(ad(nodata), nodata);
    const cname = await ask('docs.example.net', 'A', '+subnet=81.2.69.0/24');
    assert.ok(ad(cname), cname);
  });

  it('follows the referral to the child: the delegation is proven insecure, the answer is not bogus', async () => {
    const out = await ask('host.sub.example.net', 'A');
    assert.equal(status(out), 'NOERROR', out);
    assert.match(out, /host\.sub\.example\.net\.\s+\d+\s+IN\s+A\s+192\.0\.2\.99/);
    assert.ok(!ad(out), `insecure below the cut: ${out}`);
    const ds = await ask('sub.example.net', 'DS');
    assert.equal(status(ds), 'NOERROR', ds);
    assert.ok(ad(ds), `the proof of no DS validates: ${ds}`);
  });

  it('validates wildcard CNAME chains (AD set)', async () => {
    for (const name of ['host.alias.example.net', 'host.away.example.net']) {
      const out = await ask(name, 'A', '+subnet=81.2.69.0/24');
      assert.equal(status(out), 'NOERROR', out);
      assert.ok(ad(out), `${name}: ${out}`);
    }
  });
});
