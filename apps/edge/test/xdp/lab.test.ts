import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Snapshot } from '@catchment/core';
import { dsr, edge, snapshot } from '@catchment/testkit/dsr-snapshots';
import { Netns, Procs, uniquePrefix } from '@catchment/testkit/netns';
import { until } from '@catchment/testkit/wait';
import { XdpDsrApplier } from '../../src/xdp/applier.ts';
import type { CounterName } from '../../src/xdp/layout.ts';
import { buildBpf } from '../../src/xdp/object.ts';

/**
 * The DSR lab: client — router — edge A (XDP shedding) / edge B (XDP decapsulation, the
 * VIP on loopback, an HTTP server), all in namespaces this test creates and removes.
 * Facts of this kernel the setup relies on: XDP_TX from a veth needs an XDP program on its
 * peer; the router's veth towards A sends with tx checksum offload off (B would drop
 * the partial checksums); advmss 1440 on B's return route (the SYN-ACK never passes
 * A); loose rp_filter on the router (replies come from B with the VIP as source);
 * forwarding on A's ingress for bpf_fib_lookup.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const VIP = '10.99.0.10';
const VIP6 = 'fd00:99::10';
const A_ADDR = '10.10.2.2';
const B_ADDR = '10.10.3.2';

const netns = new Netns(uniquePrefix('l'));
const procs = new Procs();
const served = { A: 0, B: 0 };
let C = '';
let R = '';
let A = '';
let B = '';
let a: XdpDsrApplier;
let b: XdpDsrApplier;
let passPin = '';

function snap(over: Parameters<typeof dsr>[1]): Snapshot {
  const vips = [
    { address: VIP, port: 80 },
    { address: VIP6, port: 80 },
  ];
  return snapshot(
    [edge('a', A_ADDR), edge('b', B_ADDR)],
    [
      dsr('a', { vips, targets: [{ edge: 'b', address: B_ADDR, weight: 1 }], ...over }),
      dsr('b', { vips, enabled: false }),
    ],
  );
}

/** Both edge agents apply every snapshot, as in production. */
async function applyAll(s: Snapshot): Promise<void> {
  await a.apply(s, 'a');
  await b.apply(s, 'b');
}

async function count(n: number, vip = VIP): Promise<Record<string, number>> {
  const out = await procs.run(C, process.execPath, [path.join(here, 'lab-client.ts'), 'count', vip, String(n)], 60_000);
  return JSON.parse(out.trim()) as Record<string, number>;
}

function tcpOutSegs(ns: string): number {
  const lines = netns
    .run(ns, 'cat', ['/proc/net/snmp'])
    .split('\n')
    .filter((l) => l.startsWith('Tcp:'));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf('OutSegs')]);
}

async function countersOf(x: XdpDsrApplier): Promise<Record<CounterName, bigint>> {
  const c = await x.readCounters();
  assert.ok(c);
  return c;
}

/** Starts a long download; resolves `progress` once `midBytes` arrived and `done` at the end. */
function download(bytes: number, midBytes: number) {
  let got = 0;
  let result = '';
  procs.start(C, process.execPath, [path.join(here, 'lab-client.ts'), 'download', VIP, String(bytes)], (line) => {
    if (line.startsWith('progress ')) got = Number(line.split(' ')[1]);
    else result = line;
  });
  return {
    mid: () => until('download progress', () => got >= midBytes || result !== '', 30_000, 20),
    done: async () => {
      await until('download end', () => result !== '', 60_000, 20);
      return result;
    },
  };
}

describe('XDP DSR lab (namespaces)', { concurrency: false }, () => {
  before(async () => {
    const objs = await buildBpf();
    C = netns.add('c');
    R = netns.add('r');
    A = netns.add('a');
    B = netns.add('b');
    netns.veth(C, 'c0', R, 'rc');
    netns.veth(R, 'ra', A, 'a0');
    netns.veth(R, 'rb', B, 'b0');
    netns.ip(C, 'addr', 'add', '10.10.1.2/24', 'dev', 'c0');
    netns.ip(C, 'route', 'add', 'default', 'via', '10.10.1.1');
    netns.ip(R, 'addr', 'add', '10.10.1.1/24', 'dev', 'rc');
    netns.ip(R, 'addr', 'add', '10.10.2.1/24', 'dev', 'ra');
    netns.ip(R, 'addr', 'add', '10.10.3.1/24', 'dev', 'rb');
    netns.ip(R, 'route', 'add', `${VIP}/32`, 'via', A_ADDR);
    netns.sysctl(R, 'net.ipv4.ip_forward', 1);
    for (const dev of ['all', 'default', 'rb', 'ra', 'rc']) netns.sysctl(R, `net.ipv4.conf.${dev}.rp_filter`, 2);
    netns.run(R, 'ethtool', ['-K', 'ra', 'tx', 'off']);
    netns.ip(A, 'addr', 'add', `${A_ADDR}/24`, 'dev', 'a0');
    netns.ip(A, 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
    netns.ip(A, 'route', 'add', 'default', 'via', '10.10.2.1');
    netns.sysctl(A, 'net.ipv4.conf.a0.forwarding', 1);
    netns.ip(B, 'addr', 'add', `${B_ADDR}/24`, 'dev', 'b0');
    netns.ip(B, 'addr', 'add', `${VIP}/32`, 'dev', 'lo');
    netns.ip(B, 'route', 'add', 'default', 'via', '10.10.3.1', 'advmss', '1440');

    // IPv6 clients too: inner IPv6 in the IPv4 tunnel (6in4); 1480 - 60 = 1420 for B's MSS.
    const v6 = (ns: string, dev: string, addr: string) => netns.ip(ns, '-6', 'addr', 'add', addr, 'dev', dev, 'nodad');
    v6(C, 'c0', 'fd00:10:1::2/64');
    v6(R, 'rc', 'fd00:10:1::1/64');
    v6(R, 'ra', 'fd00:10:2::1/64');
    v6(R, 'rb', 'fd00:10:3::1/64');
    v6(A, 'a0', 'fd00:10:2::2/64');
    v6(B, 'b0', 'fd00:10:3::2/64');
    v6(A, 'lo', `${VIP6}/128`);
    v6(B, 'lo', `${VIP6}/128`);
    netns.ip(C, '-6', 'route', 'add', 'default', 'via', 'fd00:10:1::1');
    netns.ip(A, '-6', 'route', 'add', 'default', 'via', 'fd00:10:2::1');
    netns.ip(B, '-6', 'route', 'add', 'default', 'via', 'fd00:10:3::1', 'advmss', '1420');
    netns.ip(R, '-6', 'route', 'add', `${VIP6}/128`, 'via', 'fd00:10:2::2');
    netns.sysctl(R, 'net.ipv6.conf.all.forwarding', 1);

    // XDP on the router's end of A's link, so A's XDP_TX frames are received.
    passPin = `/sys/fs/bpf/${netns.prefix}_pass`;
    netns.run(R, 'bpftool', ['prog', 'load', objs.pass, passPin, 'type', 'xdp']);
    netns.run(R, 'bpftool', ['net', 'attach', 'xdpdrv', 'pinned', passPin, 'dev', 'ra']);

    for (const [name, ns] of [
      ['A', A],
      ['B', B],
    ] as const) {
      let ready = false;
      procs.start(ns, process.execPath, [path.join(here, 'lab-server.ts'), name, '::'], (line) => {
        if (line === 'ready') ready = true;
        else if (line === 'request /') served[name]++;
      });
      await until(`server ${name}`, () => ready, 10_000, 20);
    }
    a = new XdpDsrApplier({ iface: 'a0', netns: A, instance: `${netns.prefix}_a` });
    b = new XdpDsrApplier({ iface: 'b0', netns: B, instance: `${netns.prefix}_b` });
    await applyAll(snap({ fraction: 0 }));
    // Neighbours known before the first shed SYN (bpf_fib_lookup does not resolve them).
    netns.ip(A, 'neigh', 'replace', '10.10.2.1', 'lladdr', netns.macOf(R, 'ra'), 'dev', 'a0', 'nud', 'permanent');
    netns.ip(R, 'neigh', 'replace', B_ADDR, 'lladdr', netns.macOf(B, 'b0'), 'dev', 'rb', 'nud', 'permanent');
  });

  after(async () => {
    procs.killAll();
    for (const x of [a, b]) await x?.remove().catch(() => undefined);
    rmSync(passPin, { force: true });
    netns.cleanup();
  });

  test('0 %: every connection is served by A', async () => {
    const before = { ...served };
    const tally = await count(40);
    assert.deepEqual(tally, { errors: 0, A: 40 });
    assert.equal(served.A - before.A, 40);
    assert.equal(served.B - before.B, 0);
  });

  test('100 %: every connection is served by B, replies go straight to the client', async () => {
    await applyAll(snap({ fraction: 65536 }));
    const before = { ...served };
    const segsA = tcpOutSegs(A);
    const ca = await countersOf(a);
    const cb = await countersOf(b);
    const tally = await count(40);
    assert.deepEqual(tally, { errors: 0, B: 40 });
    assert.equal(served.B - before.B, 40);
    assert.equal(served.A - before.A, 0);
    // A's TCP stack sent nothing: no SYN-ACK, no data; B answered the client directly.
    assert.equal(tcpOutSegs(A) - segsA, 0);
    const ca2 = await countersOf(a);
    const cb2 = await countersOf(b);
    assert.equal(ca2.syn_shed - ca.syn_shed, 40n);
    assert.ok(ca2.flow_forwarded - ca.flow_forwarded >= 80n, 'request and ACKs follow the flows');
    assert.ok(cb2.decap_ipip - cb.decap_ipip >= 120n);
    assert.equal(cb2.decap_foreign, 0n);
  });

  test('IPv6 clients: 0 % served by A, 100 % by B through the IPv4 tunnel', async () => {
    await applyAll(snap({ fraction: 0 }));
    assert.deepEqual(await count(20, VIP6), { errors: 0, A: 20 });
    await applyAll(snap({ fraction: 65536 }));
    const segsA = tcpOutSegs(A);
    assert.deepEqual(await count(20, VIP6), { errors: 0, B: 20 });
    assert.equal(tcpOutSegs(A) - segsA, 0);
  });

  test('100 % with GUE encapsulation', async () => {
    await applyAll(snap({ fraction: 65536, encap: 'gue' }));
    const cb = await countersOf(b);
    const tally = await count(20);
    assert.deepEqual(tally, { errors: 0, B: 20 });
    const cb2 = await countersOf(b);
    assert.ok(cb2.decap_gue - cb.decap_gue >= 60n);
  });

  test('50 %: about half of a few hundred connections go to B', async () => {
    await applyAll(snap({ fraction: 32768, seed: 7 }));
    const tally = await count(300);
    assert.equal(tally.errors, 0);
    assert.equal((tally.A ?? 0) + (tally.B ?? 0), 300);
    const share = (tally.B ?? 0) / 300;
    assert.ok(share > 0.35 && share < 0.65, `share shed ${share}`);
  });

  test('turning shedding off mid-download: the download finishes from B, new connections go to A', async () => {
    await applyAll(snap({ fraction: 65536 }));
    const size = 8 * 1024 * 1024;
    const dl = download(size, 1024 * 1024);
    await dl.mid();
    await applyAll(snap({ enabled: false, fraction: 65536 }));
    const before = await countersOf(a);
    const tally = await count(20);
    assert.deepEqual(tally, { errors: 0, A: 20 });
    assert.equal(await dl.done(), `done B ${size}`);
    const after = await countersOf(a);
    assert.ok(after.flow_forwarded > before.flow_forwarded, 'the download kept following its flow entry');
    assert.equal(after.syn_local_disabled - before.syn_local_disabled, 20n);
  });

  test('a client reusing the source port of an ended redirected connection is served by A', async () => {
    // The server closes first (Connection: close), so the client keeps no TIME_WAIT and may
    // pick the same port again at once; A's flow entry for it is then stale.
    const from = async (port: number) =>
      (
        await procs.run(C, process.execPath, [path.join(here, 'lab-client.ts'), 'from', VIP, String(port)], 30_000)
      ).trim();
    await applyAll(snap({ fraction: 65536 }));
    assert.equal(await from(41_000), 'B');
    await applyAll(snap({ enabled: false, fraction: 65536 }));
    assert.equal(await from(41_000), 'A');
  });

  // What the compiler publishes once a dsr-shed action is no longer active (controller undo,
  // operator undsr and expiry alike): the shedding edge has no targets any more, so the
  // receiver no longer finds it among the edges that shed to it.
  const undone = (encap: 'ipip' | 'gue') => snap({ enabled: false, fraction: 0, targets: [], encap });

  for (const encap of ['ipip', 'gue'] as const) {
    test(`undo as published (${encap}, no targets): the redirected download finishes from B`, async () => {
      await applyAll(snap({ fraction: 65536, encap }));
      const size = 8 * 1024 * 1024;
      const dl = download(size, 1024 * 1024);
      await dl.mid();
      const cb = await countersOf(b);
      const res = await b.apply(undone(encap), 'b');
      await a.apply(undone(encap), 'a');
      assert.deepEqual(res.summary.peers, [], 'no edge sheds to B any more');
      assert.deepEqual(res.summary.draining, [A_ADDR], 'A stays allowed while its flows may still arrive');
      assert.deepEqual(await count(10), { errors: 0, A: 10 });
      assert.equal(await dl.done(), `done B ${size}`);
      const cb2 = await countersOf(b);
      assert.equal(cb2.decap_foreign - cb.decap_foreign, 0n, 'no redirected packet was dropped');
    });
  }

  test('a retired peer goes once nothing arrived from it for the flow idle time', async () => {
    const quick = new XdpDsrApplier({ iface: 'b0', netns: B, instance: `${netns.prefix}_b`, flowIdleSeconds: 1 });
    await applyAll(snap({ fraction: 65536 }));
    assert.deepEqual(await count(5), { errors: 0, B: 5 });
    let res = await quick.apply(undone('ipip'), 'b');
    assert.deepEqual(res.summary.draining, [A_ADDR]);
    // Bounded: the idle time is 1 s; give the coarse clock and bpftool ample room.
    for (let i = 0; i < 60 && res.summary.draining.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      res = await quick.apply(undone('ipip'), 'b');
    }
    assert.deepEqual(res.summary.draining, [], 'peer retired');
    assert.equal(res.deletes, 1);
    await quick.close();
  });

  test('reloading the program (agent restart, new version) keeps the transfer alive', async () => {
    await applyAll(snap({ fraction: 65536 }));
    const size = 8 * 1024 * 1024;
    const dl = download(size, 1024 * 1024);
    await dl.mid();
    const oldId = (
      await (await a.program).tools.json<{ id: number }>(['prog', 'show', 'pinned', (await a.program).progPin])
    ).id;
    // A new agent with a new program version (the same source built without next-hop
    // caching: another binary), on the same pins.
    const restarted = new XdpDsrApplier({
      iface: 'a0',
      netns: A,
      instance: `${netns.prefix}_a`,
      object: (await buildBpf()).dsrNoCache,
    });
    await a.close();
    a = restarted;
    const res = await a.apply(snap({ fraction: 65536 }), 'a');
    assert.ok(res.loaded);
    assert.ok(res.loaded.reused.includes('flows'));
    assert.ok(res.loaded.reused.includes('counters'));
    assert.notEqual(res.loaded.progId, oldId);
    assert.equal(await dl.done(), `done B ${size}`);
  });
});
