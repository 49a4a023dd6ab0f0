/**
 * XDP DSR benchmark: ns per packet for each path of the program, beside an empty XDP
 * program in the same run, with BPF_PROG_TEST_RUN on a FRESH copy of the packet per run
 * (bpf/tools/xdp_bench.c; re-running on one buffer would measure the already
 * encapsulated packet). Shed SYNs vary the source address and port so each is a new flow.
 *
 *   pnpm bench:xdp [--runs 20000] [--rounds 5]
 *
 * Runs in a namespace it creates and removes (static neighbour for the target).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { XdpDsrApplier } from '../apps/edge/src/xdp/applier.ts';
import { buildBpf } from '../apps/edge/src/xdp/object.ts';
import { dsr, edge, snapshot } from '../packages/testkit/src/dsr-snapshots.ts';
import { Netns, uniquePrefix } from '../packages/testkit/src/netns.ts';
import { frame, ipipL3, TCP, tcpL3 } from '../packages/testkit/src/packet.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } },
});
const runs = Math.min(Number(values.runs), 200_000);
const rounds = Math.min(Number(values.rounds), 20);

const VIP = '10.99.0.10';
const A = '10.200.0.1';
const B = '10.200.0.2';
const ROUTER = '02:00:00:00:00:aa';

interface Result {
  retval: number;
  median: number;
  p10: number;
  p90: number;
  mean: number;
}

const netns = new Netns(uniquePrefix('b'));
const appliers: XdpDsrApplier[] = [];
let passPin = '';
try {
  const objs = await buildBpf();
  const ns = netns.add('x');
  const peer = netns.add('y');
  netns.veth(ns, 'bx0', peer, 'by0');
  netns.veth(ns, 'bx1', peer, 'by1');
  netns.veth(ns, 'bx2', peer, 'by2');
  netns.ip(ns, 'addr', 'add', `${A}/24`, 'dev', 'bx0');
  netns.ip(ns, 'neigh', 'replace', B, 'lladdr', '02:00:00:00:00:0b', 'dev', 'bx0', 'nud', 'permanent');
  netns.sysctl(ns, 'net.ipv4.conf.all.forwarding', 1);
  const ifindex = netns.ifindex(ns, 'bx0');
  const mac = netns.macOf(ns, 'bx0');

  const vips = [{ address: VIP, port: 80 }];
  const shedder = new XdpDsrApplier({ iface: 'bx0', netns: ns, instance: `${netns.prefix}_a` });
  const receiver = new XdpDsrApplier({ iface: 'bx1', netns: ns, instance: `${netns.prefix}_b` });
  const uncached = new XdpDsrApplier({
    iface: 'bx2',
    netns: ns,
    instance: `${netns.prefix}_n`,
    object: objs.dsrNoCache,
  });
  appliers.push(shedder, receiver, uncached);
  const snap = snapshot(
    [edge('a', A), edge('b', B)],
    [
      dsr('a', { vips, fraction: 65536, targets: [{ edge: 'b', address: B, weight: 1 }] }),
      dsr('b', { enabled: false }),
    ],
  );
  await shedder.apply(snap, 'a');
  await receiver.apply(snap, 'b');
  await uncached.apply(snap, 'a');
  const dsrPin = (await shedder.program).progPin;
  const decapPin = (await receiver.program).progPin;
  const noCachePin = (await uncached.program).progPin;
  passPin = `/sys/fs/bpf/${netns.prefix}_pass`;
  netns.run(ns, 'bpftool', ['prog', 'load', objs.pass, passPin, 'type', 'xdp']);

  const tcp = (src: string, dst: string, sport: number, flags: number, payload = 0) =>
    frame(mac, ROUTER, tcpL3({ src, dst, sport, dport: 80, flags, payload }));
  const hex = (b: Buffer) => b.toString('hex');
  const bench = (pin: string, pkt: Buffer, vary = false, sameBuffer = false): Result => {
    const args = [pin, hex(pkt), String(sameBuffer ? 1_000_000 : runs)];
    // Frame offsets: TCP source port at 34, the low half of the IPv4 source address at 28.
    args.push(vary ? '34' : '-1', vary ? '28' : '-1', String(ifindex), sameBuffer ? '1' : '0');
    return JSON.parse(netns.run(ns, objs.bench, args)) as Result;
  };

  // The redirected flow exists before its packets are measured.
  bench(dsrPin, tcp('10.50.0.1', VIP, 40000, TCP.SYN));
  bench(noCachePin, tcp('10.50.0.1', VIP, 40000, TCP.SYN));
  // `same`: the path leaves the packet as it is, so repeat on one buffer is valid too.
  const paths: Array<{ name: string; pin: string; pkt: Buffer; vary?: boolean; same?: boolean; expect: number }> = [
    {
      name: 'empty XDP program',
      pin: passPin,
      pkt: tcp('10.50.0.1', '10.98.0.1', 1000, TCP.ACK, 100),
      expect: 2,
      same: true,
    },
    { name: 'non-VIP', pin: dsrPin, pkt: tcp('10.50.0.1', '10.98.0.1', 1000, TCP.ACK, 100), expect: 2, same: true },
    {
      name: 'non-VIP, same last byte as a VIP',
      pin: dsrPin,
      pkt: tcp('10.50.0.1', '10.98.0.10', 1000, TCP.ACK, 100),
      expect: 2,
      same: true,
    },
    {
      name: 'VIP passed (no flow entry)',
      pin: dsrPin,
      pkt: tcp('10.50.0.1', VIP, 1000, TCP.ACK, 100),
      expect: 2,
      same: true,
    },
    {
      name: 'shed SYN (new flow each run)',
      pin: dsrPin,
      pkt: tcp('10.60.0.1', VIP, 1, TCP.SYN),
      vary: true,
      expect: 3,
    },
    { name: 'redirected-flow packet', pin: dsrPin, pkt: tcp('10.50.0.1', VIP, 40000, TCP.ACK, 100), expect: 3 },
    {
      name: 'shed SYN, no next-hop cache',
      pin: noCachePin,
      pkt: tcp('10.61.0.1', VIP, 1, TCP.SYN),
      vary: true,
      expect: 3,
    },
    {
      name: 'redirected-flow packet, no next-hop cache',
      pin: noCachePin,
      pkt: tcp('10.50.0.1', VIP, 40000, TCP.ACK, 100),
      expect: 3,
    },
    {
      name: 'decapsulation (receiving edge)',
      pin: decapPin,
      pkt: frame(mac, ROUTER, ipipL3(A, B, tcpL3({ src: '10.50.0.1', dst: VIP, sport: 1, dport: 80, flags: TCP.ACK }))),
      expect: 2,
    },
  ];
  const samples = new Map<string, Result[]>(paths.map((p) => [p.name, []]));
  const sameBuffer = new Map<string, number[]>(paths.map((p) => [p.name, []]));
  for (let r = 0; r < rounds; r++) {
    // A different order each round: no path always runs first (cold) or right after another.
    const order = paths.map((p, i) => ({ p, k: (i * 7 + r * 3) % paths.length })).sort((x, y) => x.k - y.k);
    for (const { p } of order) {
      const res = bench(p.pin, p.pkt, p.vary);
      if (res.retval !== p.expect) throw new Error(`${p.name}: XDP action ${res.retval}, expected ${p.expect}`);
      samples.get(p.name)!.push(res);
      if (p.same) sameBuffer.get(p.name)!.push(bench(p.pin, p.pkt, false, true).mean);
    }
  }
  const med = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const empty = med(samples.get('empty XDP program')!.map((s) => s.mean));
  console.log(`XDP DSR, BPF_PROG_TEST_RUN, ${runs} runs x ${rounds} rounds, fresh packet per run`);
  console.log(`${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, kernel ${os.release()}`);
  const emptySame = med(sameBuffer.get('empty XDP program')!);
  console.log(
    '| path | median ns | mean ns (below p99) | above empty ns | same buffer, repeat 10^6: ns (above empty) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const p of paths) {
    const s = samples.get(p.name)!;
    const mean = med(s.map((x) => x.mean));
    const m = med(s.map((x) => x.median));
    const same = sameBuffer.get(p.name)!;
    const sameText = same.length ? `${med(same)} (${med(same) - emptySame})` : 'n/a (changes the packet)';
    const above = p.name === 'empty XDP program' ? '-' : (mean - empty).toFixed(1);
    console.log(`| ${p.name} | ${m} | ${mean.toFixed(1)} | ${above} | ${sameText} |`);
  }
  const c = await shedder.readCounters();
  console.log(
    `counters: syn_shed=${c?.syn_shed} flow_forwarded=${c?.flow_forwarded} nexthop_lookup=${c?.nexthop_lookup}`,
  );
} finally {
  for (const x of appliers) await x.remove().catch(() => undefined);
  if (passPin) netns.run(netns.names[0] ?? '', 'rm', ['-f', passPin]);
  netns.cleanup();
}
