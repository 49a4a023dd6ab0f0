import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dsr, edge, snapshot } from '@catchment/testkit/dsr-snapshots';
import { Netns, uniquePrefix } from '@catchment/testkit/netns';
import { frame, icmpChecksumOk, ipipL3, parseFrame, parseIp, TCP, tcpL3, udpL3 } from '@catchment/testkit/packet';
import { XdpDsrApplier } from '../../src/xdp/applier.ts';
import type { CounterName } from '../../src/xdp/layout.ts';
import { buildBpf } from '../../src/xdp/object.ts';
import { ProgRunner, XDP } from './progrun.ts';

/**
 * Every branch of the DSR program through BPF_PROG_TEST_RUN, with packets built here and
 * the output checked field by field. The program runs as the edge agent loads it (maps
 * written by XdpDsrApplier), in a namespace with static neighbours for the targets.
 */
const VIP4 = '10.99.0.10';
const VIP6 = 'fd00:99::10';
const A4 = '10.200.0.1';
const B4 = '10.200.0.2';
const A6 = 'fd00:200::1';
const B6 = 'fd00:200::2';
const C4 = '10.200.0.3';
const B_MAC = '02:00:00:00:00:0b';
const ROUTER_MAC = '02:00:00:00:00:aa';

const netns = new Netns(uniquePrefix('u'));
let ns = '';
const appliers: XdpDsrApplier[] = [];
const runners: ProgRunner[] = [];
let a: XdpDsrApplier;
let a6: XdpDsrApplier;
let b: XdpDsrApplier;
let runA: ProgRunner;
let runA6: ProgRunner;
let runB: ProgRunner;
let idle: XdpDsrApplier;
let runIdle: ProgRunner;
let aMac = '';
let a6Mac = '';

const vips = [
  { address: VIP4, port: 80 },
  { address: VIP6, port: 443 },
];

function snapV4(over: Parameters<typeof dsr>[1]) {
  return snapshot(
    [edge('a', A4), edge('b', B4)],
    [dsr('a', { vips, targets: [{ edge: 'b', address: B4, weight: 1 }], ...over }), dsr('b', { enabled: false })],
  );
}

function snapV6(over: Parameters<typeof dsr>[1]) {
  return snapshot(
    [edge('a6', A6), edge('b6', B6)],
    [dsr('a6', { vips, targets: [{ edge: 'b6', address: B6, weight: 1 }], ...over })],
  );
}

async function counters(applier: XdpDsrApplier): Promise<Record<CounterName, bigint>> {
  const c = await applier.readCounters();
  assert.ok(c);
  return c;
}

async function delta(
  applier: XdpDsrApplier,
  fn: () => void | Promise<void>,
): Promise<Partial<Record<CounterName, number>>> {
  const before = await counters(applier);
  await fn();
  const after = await counters(applier);
  const out: Partial<Record<CounterName, number>> = {};
  for (const k of Object.keys(after) as CounterName[]) {
    const d = Number(after[k] - before[k]);
    if (d) out[k] = d;
  }
  return out;
}

function syn(src: string, dst: string, sport: number, dport = 80) {
  return frame(aMac, ROUTER_MAC, tcpL3({ src, dst, sport, dport, flags: TCP.SYN }));
}

function ack(src: string, dst: string, sport: number, dport = 80, payload = 0) {
  return frame(aMac, ROUTER_MAC, tcpL3({ src, dst, sport, dport, flags: TCP.ACK, payload }));
}

/** Checks an IP-in-IP (4 outer) frame from A to B around `inner`. */
function assertIpip4(out: Buffer, inner: Buffer, srcMac: string) {
  const f = parseFrame(out);
  assert.equal(f.dst, B_MAC);
  assert.equal(f.src, srcMac);
  assert.equal(f.type, 0x0800);
  const ip = parseIp(f.l3);
  assert.equal(ip.version, 4);
  assert.equal(ip.headerLen, 20);
  assert.equal(ip.totalLen, 20 + inner.length);
  assert.equal(ip.proto, inner[0]! >> 4 === 4 ? 4 : 41);
  assert.equal(ip.ttl, 64);
  assert.equal(ip.frag, 0);
  assert.equal(ip.src, A4);
  assert.equal(ip.dst, B4);
  assert.ok(ip.checksumOk, 'outer IPv4 checksum');
  assert.deepEqual(ip.payload, inner);
}

function assertGue(out: Buffer, inner: Buffer, outer: 4 | 6, srcMac: string): number {
  const f = parseFrame(out);
  assert.equal(f.dst, B_MAC);
  assert.equal(f.src, srcMac);
  assert.equal(f.type, outer === 4 ? 0x0800 : 0x86dd);
  const ip = parseIp(f.l3);
  assert.equal(ip.version, outer);
  assert.equal(ip.proto, 17);
  assert.equal(ip.ttl, 64);
  assert.equal(ip.src, outer === 4 ? A4 : A6);
  assert.equal(ip.dst, outer === 4 ? B4 : B6);
  assert.equal(ip.totalLen, ip.headerLen + 8 + inner.length);
  assert.ok(ip.checksumOk);
  const udp = ip.payload;
  const sport = udp.readUInt16BE(0);
  assert.ok(sport >= 0xc000 && sport <= 0xffff, `GUE source port ${sport} in the ephemeral range`);
  assert.equal(udp.readUInt16BE(2), 6080);
  assert.equal(udp.readUInt16BE(4), 8 + inner.length);
  assert.equal(udp.readUInt16BE(6), 0);
  if (outer === 6) assert.equal(ip.flowLabel, sport, 'flow label carries the per-flow value');
  assert.deepEqual(udp.subarray(8), inner);
  return sport;
}

describe('XDP DSR program (BPF_PROG_TEST_RUN)', { concurrency: false }, () => {
  before(async () => {
    await buildBpf();
    ns = netns.add('x');
    const peer = netns.add('y');
    // The far ends stay silent (no IPv6 router/neighbour solicitations): the counters
    // checked below must see only the test's packets.
    netns.sysctl(peer, 'net.ipv6.conf.all.disable_ipv6', 1);
    netns.sysctl(peer, 'net.ipv6.conf.default.disable_ipv6', 1);
    netns.veth(ns, 'ut0', peer, 'up0');
    netns.veth(ns, 'ut2', peer, 'up2');
    netns.veth(ns, 'ut4', peer, 'up4');
    netns.veth(ns, 'ut6', peer, 'up6');
    netns.ip(ns, 'addr', 'add', `${A4}/24`, 'dev', 'ut0');
    netns.ip(ns, 'addr', 'add', `${A6}/64`, 'dev', 'ut2', 'nodad');
    netns.ip(ns, 'neigh', 'replace', B4, 'lladdr', B_MAC, 'dev', 'ut0', 'nud', 'permanent');
    netns.ip(ns, 'neigh', 'replace', C4, 'lladdr', B_MAC, 'dev', 'ut0', 'nud', 'permanent');
    netns.ip(ns, 'neigh', 'replace', B6, 'lladdr', B_MAC, 'dev', 'ut2', 'nud', 'permanent');
    // bpf_fib_lookup answers only for interfaces that forward.
    netns.sysctl(ns, 'net.ipv4.conf.all.forwarding', 1);
    netns.sysctl(ns, 'net.ipv6.conf.all.forwarding', 1);
    aMac = netns.macOf(ns, 'ut0');
    a6Mac = netns.macOf(ns, 'ut2');
    const tag = netns.prefix;
    a = new XdpDsrApplier({ iface: 'ut0', netns: ns, instance: `${tag}_a` });
    a6 = new XdpDsrApplier({ iface: 'ut2', netns: ns, instance: `${tag}_a6` });
    b = new XdpDsrApplier({ iface: 'ut4', netns: ns, instance: `${tag}_b` });
    idle = new XdpDsrApplier({ iface: 'ut6', netns: ns, instance: `${tag}_i`, flowIdleSeconds: 0.02 });
    appliers.push(a, a6, b, idle);
    await a.apply(snapV4({ fraction: 0 }), 'a');
    await a6.apply(snapV6({ fraction: 65536 }), 'a6');
    await b.apply(snapV4({ fraction: 0 }), 'b');
    await idle.apply(snapV4({ fraction: 65536 }), 'a');
    const pin = (x: XdpDsrApplier) => x.program.then((p) => p.progPin);
    runA = new ProgRunner(netns, ns, await pin(a), netns.ifindex(ns, 'ut0'));
    runA6 = new ProgRunner(netns, ns, await pin(a6), netns.ifindex(ns, 'ut2'));
    runB = new ProgRunner(netns, ns, await pin(b), netns.ifindex(ns, 'ut4'));
    runIdle = new ProgRunner(netns, ns, await pin(idle), netns.ifindex(ns, 'ut0'));
    runners.push(runA, runA6, runB, runIdle);
  });

  after(async () => {
    for (const x of appliers) await x.remove().catch(() => undefined);
    for (const r of runners) r.cleanup();
    netns.cleanup();
  });

  test('non-VIP traffic passes untouched', async () => {
    const other = syn('10.50.0.1', '10.99.0.99', 1000);
    const sameLastByte = syn('10.50.0.1', '10.98.0.10', 1001);
    const wrongPort = syn('10.50.0.1', VIP4, 1002, 8080);
    const udp = frame(aMac, ROUTER_MAC, udpL3('10.50.0.1', VIP4, 5000, 53, Buffer.from('x')));
    const d = await delta(a, () => {
      for (const f of [other, sameLastByte, wrongPort, udp]) {
        const r = runA.run(f);
        assert.equal(r.retval, XDP.PASS);
        assert.deepEqual(r.out, f);
      }
    });
    assert.deepEqual(d, { pass_non_vip: 3, pass_non_tcp: 1 });
  });

  test('VIP packet of an unknown flow passes to the local server', async () => {
    const f = ack('10.50.0.1', VIP4, 2000);
    const d = await delta(a, () => {
      const r = runA.run(f);
      assert.equal(r.retval, XDP.PASS);
      assert.deepEqual(r.out, f);
    });
    assert.deepEqual(d, { pass_vip_local: 1 });
  });

  test('SYN not selected stays local (fraction 0)', async () => {
    const f = syn('10.50.0.1', VIP4, 3000);
    const d = await delta(a, () => {
      const r = runA.run(f);
      assert.equal(r.retval, XDP.PASS);
      assert.deepEqual(r.out, f);
    });
    assert.deepEqual(d, { syn_local: 1 });
  });

  test('SYN shed: IP-in-IP to the target, then every packet of the flow follows', async () => {
    await a.apply(snapV4({ fraction: 65536 }), 'a');
    const s = syn('10.50.0.1', VIP4, 4000);
    const d1 = await delta(a, () => {
      const r = runA.run(s);
      assert.equal(r.retval, XDP.TX);
      assertIpip4(r.out, s.subarray(14), aMac);
    });
    assert.equal(d1.syn_shed, 1);
    assert.equal(d1.encap_ipip, 1);
    // The same 4-tuple was NOT selected at fraction 0 above (port 3000): it stays local.
    const data = ack('10.50.0.1', VIP4, 4000, 80, 100);
    const d2 = await delta(a, () => {
      const r = runA.run(data);
      assert.equal(r.retval, XDP.TX);
      assertIpip4(r.out, data.subarray(14), aMac);
    });
    assert.deepEqual(d2, { flow_forwarded: 1, encap_ipip: 1 });
  });

  test('after shedding is disabled, redirected flows still follow; new SYNs stay', async () => {
    await a.apply(snapV4({ enabled: false, fraction: 65536 }), 'a');
    const data = ack('10.50.0.1', VIP4, 4000, 80, 10);
    const fresh = syn('10.50.0.1', VIP4, 4001);
    const d = await delta(a, () => {
      const r = runA.run(data);
      assert.equal(r.retval, XDP.TX);
      assertIpip4(r.out, data.subarray(14), aMac);
      const r2 = runA.run(fresh);
      assert.equal(r2.retval, XDP.PASS);
      assert.deepEqual(r2.out, fresh);
    });
    assert.deepEqual(d, { flow_forwarded: 1, encap_ipip: 1, syn_local_disabled: 1 });
  });

  test('a new SYN on the ports of an ended redirected flow is decided afresh, and its ACKs stay', async () => {
    // The client closed cleanly (FIN, no RST), so the flow entry outlives the connection;
    // a client reusing the source port must not be sent to the old target.
    await a.apply(snapV4({ fraction: 65536 }), 'a');
    assert.equal(runA.run(syn('10.50.0.7', VIP4, 4100)).retval, XDP.TX);
    await a.apply(snapV4({ enabled: false, fraction: 65536 }), 'a');
    const again = syn('10.50.0.7', VIP4, 4100);
    const d = await delta(a, () => {
      const r = runA.run(again);
      assert.equal(r.retval, XDP.PASS);
      assert.deepEqual(r.out, again);
      assert.equal(runA.run(ack('10.50.0.7', VIP4, 4100)).retval, XDP.PASS);
    });
    assert.deepEqual(d, { flow_reused: 1, syn_local_disabled: 1, pass_vip_local: 1 });
  });

  test('RST of a redirected flow is forwarded and ends the flow', async () => {
    const rst = frame(aMac, ROUTER_MAC, tcpL3({ src: '10.50.0.1', dst: VIP4, sport: 4000, dport: 80, flags: TCP.RST }));
    const d = await delta(a, () => {
      assert.equal(runA.run(rst).retval, XDP.TX);
      assert.equal(runA.run(ack('10.50.0.1', VIP4, 4000)).retval, XDP.PASS);
    });
    assert.deepEqual(d, { flow_forwarded: 1, encap_ipip: 1, flow_closed: 1, pass_vip_local: 1 });
  });

  test('client prefixes: always shed and never shed', async () => {
    await a.apply(
      snapV4({
        fraction: 0,
        clientPrefixes: [
          { cidr: '10.50.1.0/24', mode: 'always' },
          { cidr: '10.50.2.0/24', mode: 'never' },
        ],
      }),
      'a',
    );
    const always = syn('10.50.1.5', VIP4, 5000);
    const d1 = await delta(a, () => {
      const r = runA.run(always);
      assert.equal(r.retval, XDP.TX);
      assertIpip4(r.out, always.subarray(14), aMac);
    });
    assert.equal(d1.syn_prefix_always, 1);
    assert.equal(d1.syn_shed, 1);

    await a.apply(snapV4({ fraction: 65536, clientPrefixes: [{ cidr: '10.50.2.0/24', mode: 'never' }] }), 'a');
    const never = syn('10.50.2.5', VIP4, 5001);
    const other = syn('10.50.3.5', VIP4, 5002);
    const d2 = await delta(a, () => {
      const r = runA.run(never);
      assert.equal(r.retval, XDP.PASS);
      assert.deepEqual(r.out, never);
      assert.equal(runA.run(other).retval, XDP.TX);
    });
    assert.equal(d2.syn_prefix_never, 1);
    assert.equal(d2.syn_shed, 1);
  });

  test('IPv6 VIP: shed inside an IPv4 tunnel (6in4)', async () => {
    await a.apply(snapV4({ fraction: 65536 }), 'a');
    const s = frame(aMac, ROUTER_MAC, tcpL3({ src: 'fd00:50::1', dst: VIP6, sport: 6000, dport: 443, flags: TCP.SYN }));
    const r = runA.run(s);
    assert.equal(r.retval, XDP.TX);
    assertIpip4(r.out, s.subarray(14), aMac);
    const later = frame(
      aMac,
      ROUTER_MAC,
      tcpL3({ src: 'fd00:50::1', dst: VIP6, sport: 6000, dport: 443, flags: TCP.ACK }),
    );
    const r2 = runA.run(later);
    assert.equal(r2.retval, XDP.TX);
    assertIpip4(r2.out, later.subarray(14), aMac);
  });

  test('GUE over IPv4: UDP to the GUE port with a per-flow source port', async () => {
    await a.apply(snapV4({ fraction: 65536, encap: 'gue' }), 'a');
    const sports = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const s = syn('10.50.4.1', VIP4, 7000 + i);
      const r = runA.run(s);
      assert.equal(r.retval, XDP.TX);
      const sport = assertGue(r.out, s.subarray(14), 4, aMac);
      sports.add(sport);
      const later = ack('10.50.4.1', VIP4, 7000 + i, 80, 50);
      const r2 = runA.run(later);
      assert.equal(assertGue(r2.out, later.subarray(14), 4, aMac), sport, 'same port for the whole flow');
    }
    assert.ok(sports.size > 1, 'flows get different source ports');
  });

  test('IPv6 outer: GUE and IP-in-IP (4in6, 6in6)', async () => {
    const s6 = frame(
      a6Mac,
      ROUTER_MAC,
      tcpL3({ src: 'fd00:50::2', dst: VIP6, sport: 8000, dport: 443, flags: TCP.SYN }),
    );
    const r = runA6.run(s6);
    assert.equal(r.retval, XDP.TX);
    const f = parseFrame(r.out);
    assert.equal(f.type, 0x86dd);
    const ip = parseIp(f.l3);
    assert.equal(ip.version, 6);
    assert.equal(ip.proto, 41);
    assert.equal(ip.src, A6);
    assert.equal(ip.dst, B6);
    assert.equal(ip.ttl, 64);
    assert.equal(ip.totalLen, 40 + s6.length - 14);
    assert.deepEqual(ip.payload, s6.subarray(14));

    const s4 = frame(a6Mac, ROUTER_MAC, tcpL3({ src: '10.50.5.1', dst: VIP4, sport: 8001, dport: 80, flags: TCP.SYN }));
    const r4 = runA6.run(s4);
    const ip4 = parseIp(parseFrame(r4.out).l3);
    assert.equal(ip4.proto, 4);
    assert.deepEqual(ip4.payload, s4.subarray(14));

    await a6.apply(snapV6({ fraction: 65536, encap: 'gue' }), 'a6');
    const g = frame(
      a6Mac,
      ROUTER_MAC,
      tcpL3({ src: 'fd00:50::3', dst: VIP6, sport: 8002, dport: 443, flags: TCP.SYN }),
    );
    const rg = runA6.run(g);
    assert.equal(rg.retval, XDP.TX);
    assertGue(rg.out, g.subarray(14), 6, a6Mac);
  });

  test('receiving role: decapsulates IP-in-IP and GUE from an allowed peer, drops a foreign one', async () => {
    const bMac = netns.macOf(ns, 'ut4');
    const inner = tcpL3({ src: '10.50.0.1', dst: VIP4, sport: 9000, dport: 80, flags: TCP.SYN });
    const inner6 = tcpL3({ src: 'fd00:50::1', dst: VIP6, sport: 9001, dport: 443, flags: TCP.SYN });
    const ipip = frame(bMac, ROUTER_MAC, ipipL3(A4, B4, inner));
    const ipip6 = frame(bMac, ROUTER_MAC, ipipL3(A4, B4, inner6));
    const gue = frame(bMac, ROUTER_MAC, udpL3(A4, B4, 50000, 6080, inner));
    const foreign = frame(bMac, ROUTER_MAC, ipipL3('10.200.0.9', B4, inner));
    const foreignGue = frame(bMac, ROUTER_MAC, udpL3('10.200.0.9', B4, 50000, 6080, inner));
    // B learns the GUE port from the peers' entries: a sheds with GUE.
    await b.apply(snapV4({ fraction: 0, encap: 'gue' }), 'b');
    const d = await delta(b, () => {
      for (const [f, l3, type] of [
        [ipip, inner, 0x0800],
        [ipip6, inner6, 0x86dd],
        [gue, inner, 0x0800],
      ] as const) {
        const r = runB.run(f);
        assert.equal(r.retval, XDP.PASS);
        const out = parseFrame(r.out);
        assert.equal(out.dst, bMac);
        assert.equal(out.src, ROUTER_MAC);
        assert.equal(out.type, type);
        assert.deepEqual(out.l3, l3);
      }
      assert.equal(runB.run(foreign).retval, XDP.DROP);
      assert.equal(runB.run(foreignGue).retval, XDP.DROP);
    });
    assert.deepEqual(d, { decap_ipip: 2, decap_gue: 1, decap_foreign: 2 });
  });

  test('oversize after encapsulation: ICMP fragmentation needed / packet too big to the client', async () => {
    await a.apply(snapV4({ fraction: 65536 }), 'a');
    assert.equal(runA.run(syn('10.50.6.1', VIP4, 10000)).retval, XDP.TX);
    const big = ack('10.50.6.1', VIP4, 10000, 80, 1460); // L3 1500: 1520 once encapsulated
    const d = await delta(a, () => {
      const r = runA.run(big);
      assert.equal(r.retval, XDP.TX);
      const f = parseFrame(r.out);
      assert.equal(f.dst, ROUTER_MAC);
      assert.equal(f.src, aMac);
      const ip = parseIp(f.l3);
      assert.equal(ip.proto, 1);
      assert.equal(ip.src, VIP4);
      assert.equal(ip.dst, '10.50.6.1');
      assert.ok(ip.checksumOk);
      assert.equal(ip.payload[0], 3);
      assert.equal(ip.payload[1], 4);
      assert.equal(ip.payload.readUInt16BE(6), 1480);
      assert.ok(icmpChecksumOk(ip));
      assert.deepEqual(ip.payload.subarray(8), big.subarray(14, 14 + 28));
    });
    assert.deepEqual(d, { flow_forwarded: 1, oversize: 1, oversize_icmp: 1 });

    const s6 = frame(
      aMac,
      ROUTER_MAC,
      tcpL3({ src: 'fd00:50::6', dst: VIP6, sport: 10001, dport: 443, flags: TCP.SYN }),
    );
    assert.equal(runA.run(s6).retval, XDP.TX);
    const big6 = frame(
      aMac,
      ROUTER_MAC,
      tcpL3({ src: 'fd00:50::6', dst: VIP6, sport: 10001, dport: 443, flags: TCP.ACK, payload: 1440 }),
    );
    const r6 = runA.run(big6);
    assert.equal(r6.retval, XDP.TX);
    const ip6 = parseIp(parseFrame(r6.out).l3);
    assert.equal(ip6.proto, 58);
    assert.equal(ip6.src, VIP6);
    assert.equal(ip6.dst, 'fd00:50::6');
    assert.equal(ip6.payload[0], 2);
    assert.equal(ip6.payload.readUInt32BE(4), 1480);
    assert.ok(icmpChecksumOk(ip6));
    assert.deepEqual(ip6.payload.subarray(8), big6.subarray(14, 14 + 48));
  });

  test('weighted targets: new flows split by weight', async () => {
    await a.apply(
      snapV4({
        fraction: 65536,
        targets: [
          { edge: 'b', address: B4, weight: 1 },
          { edge: 'c', address: C4, weight: 3 },
        ],
      }),
      'a',
    );
    const seen: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const r = runA.run(syn('10.50.7.1', VIP4, 20000 + i));
      assert.equal(r.retval, XDP.TX);
      const dst = parseIp(parseFrame(r.out).l3).dst;
      seen[dst] = (seen[dst] ?? 0) + 1;
    }
    assert.deepEqual(Object.keys(seen).sort(), [B4, C4]);
    assert.ok(seen[C4]! > seen[B4]!, JSON.stringify(seen));
  });

  test('flows idle out: a packet after the idle time is no longer redirected', async () => {
    // This program's ingress is ut0 (ctx), where the target's neighbour is.
    assert.equal(runIdle.run(syn('10.50.8.1', VIP4, 30000)).retval, XDP.TX);
    await new Promise((r) => setTimeout(r, 100));
    const d = await delta(idle, () => {
      const f = ack('10.50.8.1', VIP4, 30000);
      const r = runIdle.run(f);
      assert.equal(r.retval, XDP.PASS);
      assert.deepEqual(r.out, f);
    });
    assert.deepEqual(d, { flow_expired: 1, pass_vip_local: 1 });
  });

  test('counters are exported as Prometheus metrics', async () => {
    const text = await a.metrics.metrics();
    const shed = text.match(/^catchment_xdp_packets_total\{decision="syn_shed"\} (\d+)$/m);
    assert.ok(shed, text);
    assert.ok(Number(shed[1]) > 0);
    assert.match(text, /^catchment_xdp_attached\{mode="native"\} 1$/m);
    assert.match(text, /^catchment_xdp_shedding_enabled 1$/m);
    assert.match(text, /^catchment_xdp_applies_total\{result="ok"\} \d+$/m);
  });
});
