import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { buildSteering, explainClient, GeoDb } from '@catchment/geo';
import { ASN_DB, CITY_DB, demoBody } from '@catchment/testkit/geo-fixtures';
import { buildQuery, dig, type Running, rcodeOf, run, startServer, udpQuery } from './helpers.ts';

/** Sends datagrams from one socket without waiting for replies. */
async function blast(port: number, packets: Buffer[]): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  for (const p of packets) await new Promise<void>((r) => sock.send(p, port, '127.0.0.1', () => r()));
  sock.close();
}

async function metrics(s: Running): Promise<string> {
  return (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
}

/** The value of one series, or 0 when absent. */
function value(m: string, series: string): number {
  const line = m.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('hardening (defects found from outside)', () => {
  let s: Running;
  before(async () => {
    s = await startServer(demoBody(), { geo: { city: CITY_DB, asn: ASN_DB, watch: false } });
  });
  after(async () => {
    await s?.stop();
  });

  it('ECS with an IPv4-mapped IPv6 address: the scope is in IPv6 bits (96 + the IPv4 scope)', async () => {
    for (const [v4Subnet, mappedSubnet, source] of [
      ['81.2.69.0/24', '::ffff:81.2.69.0/120', 120],
      ['81.2.69.142/32', '::ffff:81.2.69.142/128', 128],
    ] as const) {
      const v4 = await dig(s.port, 'www.example.net', 'A', `+subnet=${v4Subnet}`);
      const v4Scope = Number(/CLIENT-SUBNET: [^/]+\/\d+\/(\d+)/.exec(v4)?.[1]);
      assert.ok(v4Scope > 0, v4);
      const { stdout } = await run('kdig', [
        '@127.0.0.1',
        '-p',
        String(s.port),
        'www.example.net',
        'A',
        `+subnet=${mappedSubnet}`,
      ]);
      const answer = (out: string) => /www\.example\.net\.\s+\d+\s+IN\s+A\s+(\S+)/.exec(out)?.[1];
      assert.equal(answer(stdout), answer(v4), 'the same answer as for the IPv4 subnet');
      const scope = Number(/CLIENT-SUBNET: [^/]+\/\d+\/(\d+)/.exec(stdout)?.[1]);
      assert.equal(scope, Math.min(96 + v4Scope, source), stdout);
      // explain reads the same tables and gives the scope the DNS reply carries.
      const geo = new GeoDb({ city: CITY_DB, asn: ASN_DB, watch: false });
      try {
        const body = demoBody();
        const e = explainClient(body, buildSteering(body, geo), geo, { name: 'www.example.net', client: mappedSubnet });
        assert.equal(e?.scope, scope, `explain ${mappedSubnet}`);
        assert.equal(e?.addresses.v4[0], answer(stdout));
      } finally {
        geo.close();
      }
    }
  });

  it('NOTIMP replies clear RD and CD (defined only for QUERY)', async () => {
    const q = buildQuery('example.net', 1, { opcode: 2, flags: 0x01 });
    q[3] = 0x10; // CD
    const r = (await udpQuery(s.port, q))!;
    assert.equal(rcodeOf(r), 4);
    assert.equal(r[2]! & 0x01, 0, 'RD cleared');
    assert.equal(r[3]! & 0x10, 0, 'CD cleared');
    assert.equal((r[2]! >> 3) & 0x0f, 2, 'opcode echoed');
    const query = (await udpQuery(s.port, buildQuery('example.net', 1, { flags: 0x01 })))!;
    assert.equal(query[2]! & 0x01, 1, 'RD still echoed for QUERY');
  });

  it('labels query types only for known types, the rest as "other"', async () => {
    const packets = Array.from({ length: 300 }, (_, i) => buildQuery('example.net', 1000 + i * 211, { id: i }));
    await blast(s.port, packets);
    // One more exchange in order: everything sent before it has been read by the server.
    await udpQuery(s.port, buildQuery('example.net', 1));
    const m = await metrics(s);
    const series = m.split('\n').filter((l) => l.startsWith('catchment_dns_queries_by_type_total{'));
    assert.ok(series.length <= 40, `${series.length} series`);
    assert.doesNotMatch(m, /qtype="TYPE\d+"/);
    assert.ok(value(m, 'catchment_dns_queries_by_type_total{qtype="other"}') >= 290, 'the sweep counted as other');
    assert.ok(value(m, 'catchment_dns_queries_by_type_total{qtype="A"}') >= 1);
  });

  it('counts datagrams dropped without a reply, by reason', async () => {
    const before = await metrics(s);
    const response = buildQuery('example.net', 1, { flags: 0x80 });
    await blast(s.port, [
      ...Array.from({ length: 5 }, () => Buffer.from([1, 2, 3])),
      ...Array.from({ length: 4 }, () => response),
    ]);
    // Source port 0 needs a raw socket (root, as the test harness runs): the kernel builds the IP
    // header, the UDP header is ours (checksum 0: none, allowed over IPv4).
    const query = buildQuery('example.net', 1).toString('hex');
    const raw = `
import socket, struct
q = bytes.fromhex('${query}')
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
for _ in range(3):
    s.sendto(struct.pack('!HHHH', 0, ${s.port}, 8 + len(q), 0) + q, ('127.0.0.1', 0))
`;
    await run('/usr/bin/python3', ['-c', raw]);
    await udpQuery(s.port, buildQuery('example.net', 1));
    // Counters reach the metrics endpoint through the per-second drain: bounded retries.
    let m = '';
    for (let i = 0; i < 20; i++) {
      m = await metrics(s);
      if (value(m, 'catchment_dns_udp_dropped_total{reason="response"}') >= 4) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const delta = (reason: string) =>
      value(m, `catchment_dns_udp_dropped_total{reason="${reason}"}`) -
      value(before, `catchment_dns_udp_dropped_total{reason="${reason}"}`);
    assert.equal(delta('runt'), 5);
    assert.equal(delta('response'), 4);
    assert.equal(delta('source-port-0'), 3);
  });
});
