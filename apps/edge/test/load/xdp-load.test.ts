import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dsr, edge, snapshot } from '@catchment/testkit/dsr-snapshots';
import { Netns, uniquePrefix } from '@catchment/testkit/netns';
import { frame, TCP, tcpL3 } from '@catchment/testkit/packet';
import { XdpLoadSource } from '../../src/load/xdp.ts';
import { XdpDsrApplier } from '../../src/xdp/applier.ts';
import { buildBpf } from '../../src/xdp/object.ts';
import { ProgRunner, XDP } from '../xdp/progrun.ts';

const VIP = '10.99.0.10';
const A = '10.200.0.1';
const B = '10.200.0.2';

/**
 * The xdp load source on the real DSR program: SYNs, ACKs and non-VIP packets through
 * BPF_PROG_TEST_RUN move its per-CPU counters; the source's rate must count the new
 * connections kept locally (retval XDP_PASS) and, as offered load, the shed ones too.
 * The source's clock is the test's, so the rates are exact.
 */
test('xdp load source: new connections per second from the DSR program counters', async (t) => {
  await buildBpf();
  const netns = new Netns(uniquePrefix('l'));
  t.after(() => netns.cleanup());
  const ns = netns.add('x');
  const peer = netns.add('y');
  netns.sysctl(peer, 'net.ipv6.conf.all.disable_ipv6', 1);
  netns.veth(ns, 'lt0', peer, 'lp0');
  netns.ip(ns, 'addr', 'add', `${A}/24`, 'dev', 'lt0');
  netns.ip(ns, 'neigh', 'replace', B, 'lladdr', '02:00:00:00:00:0b', 'dev', 'lt0', 'nud', 'permanent');
  netns.sysctl(ns, 'net.ipv4.conf.all.forwarding', 1);
  const mac = netns.macOf(ns, 'lt0');
  const applier = new XdpDsrApplier({ iface: 'lt0', netns: ns, instance: `${netns.prefix}_l` });
  t.after(() => applier.remove().catch(() => undefined));
  const snap = snapshot(
    [edge('a', A), edge('b', B)],
    [
      dsr('a', {
        vips: [{ address: VIP, port: 80 }],
        fraction: 32768,
        targets: [{ edge: 'b', address: B, weight: 1 }],
      }),
    ],
  );

  let now = 0;
  const read = () => applier.readCounters();
  const flows = new XdpLoadSource({ read, now: () => now });
  const offered = new XdpLoadSource({ read, counters: 'offered-flows', now: () => now });
  await assert.rejects(flows.read(), /not loaded/, 'before the program is loaded: an error, not 0');

  await applier.apply(snap, 'a');
  const runner = new ProgRunner(netns, ns, await applier.program.then((p) => p.progPin), netns.ifindex(ns, 'lt0'));
  t.after(() => runner.cleanup());
  const send = (count: number, firstPort: number) => {
    let local = 0;
    for (let i = 0; i < count; i++) {
      const sport = firstPort + i;
      const syn = runner.run(
        frame(mac, '02:00:00:00:00:aa', tcpL3({ src: '10.50.0.1', dst: VIP, sport, dport: 80, flags: TCP.SYN })),
      );
      if (syn.retval === XDP.PASS) local++;
      // Not new connections: an ACK of an unknown flow, a packet to another address.
      runner.run(
        frame(
          mac,
          '02:00:00:00:00:aa',
          tcpL3({ src: '10.50.0.1', dst: VIP, sport: sport + 5000, dport: 80, flags: TCP.ACK }),
        ),
      );
      runner.run(
        frame(
          mac,
          '02:00:00:00:00:aa',
          tcpL3({ src: '10.50.0.1', dst: '10.99.0.99', sport, dport: 80, flags: TCP.SYN }),
        ),
      );
    }
    return local;
  };

  assert.equal(await flows.read(), undefined, 'first sample');
  assert.equal(await offered.read(), undefined);
  const local = send(16, 20000);
  assert.ok(local > 0 && local < 16, `half the SYNs are shed (${local} of 16 kept)`);
  now += 2000;
  assert.equal(await flows.read(), local / 2, 'connections kept per second');
  assert.equal(await offered.read(), 16 / 2, 'connections offered per second');

  // A new program with new maps (counters from zero): the reset counts from zero.
  await applier.remove();
  await assert.rejects(flows.read(), /not loaded/);
  await applier.apply(
    snapshot([edge('a', A)], [dsr('a', { vips: [{ address: VIP, port: 80 }], enabled: false })]),
    'a',
  );
  const runner2 = new ProgRunner(netns, ns, await applier.program.then((p) => p.progPin), netns.ifindex(ns, 'lt0'));
  t.after(() => runner2.cleanup());
  const kept = [0, 1, 2, 3].filter(
    (i) =>
      runner2.run(
        frame(
          mac,
          '02:00:00:00:00:aa',
          tcpL3({ src: '10.50.0.2', dst: VIP, sport: 30000 + i, dport: 80, flags: TCP.SYN }),
        ),
      ).retval === XDP.PASS,
  ).length;
  assert.equal(kept, 4, 'shedding off: every SYN stays');
  now += 1000;
  assert.equal(await flows.read(), 4 / 1, 'the rate after the reset is the new count, never negative');
});
