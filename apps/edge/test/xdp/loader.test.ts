import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { dsr, edge, snapshot } from '@catchment/testkit/dsr-snapshots';
import { Netns, uniquePrefix } from '@catchment/testkit/netns';
import { XdpDsrApplier } from '../../src/xdp/applier.ts';
import { buildBpf } from '../../src/xdp/object.ts';

/**
 * Loading, attaching and pinning: generic fallback (loopback has no native XDP; this kernel
 * has no dummy module), map reuse and replacement, removal.
 */
const netns = new Netns(uniquePrefix('o'));
let ns = '';
const appliers: XdpDsrApplier[] = [];

const snap = () =>
  snapshot(
    [edge('a', '10.0.0.1'), edge('b', '10.0.0.2')],
    [dsr('a', { vips: [{ address: '10.9.0.1', port: 80 }], targets: [{ edge: 'b', address: '10.0.0.2', weight: 1 }] })],
  );

function xdpMode(dev: string): string | undefined {
  const link = (
    JSON.parse(netns.ip(ns, '-j', '-d', 'link', 'show', 'dev', dev)) as Array<{ xdp?: { mode: number } }>
  )[0];
  // iproute2's XDP_ATTACHED_*: 1 driver, 2 generic (skb).
  return link?.xdp ? ({ 1: 'native', 2: 'generic' } as Record<number, string>)[link.xdp.mode] : undefined;
}

describe('XDP program loading and pinning', { concurrency: false }, () => {
  before(async () => {
    await buildBpf();
    ns = netns.add('x');
    netns.ip(ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    netns.ip(ns, 'link', 'set', 'v0', 'up');
    netns.ip(ns, 'link', 'set', 'v1', 'up');
  });

  after(async () => {
    for (const x of appliers) await x.remove().catch(() => undefined);
    netns.cleanup();
  });

  test('native XDP where the driver has it, generic as the fallback', async () => {
    const onVeth = new XdpDsrApplier({ iface: 'v0', netns: ns, instance: `${netns.prefix}_v` });
    const onLoopback = new XdpDsrApplier({ iface: 'lo', netns: ns, instance: `${netns.prefix}_d` });
    appliers.push(onVeth, onLoopback);
    assert.equal((await onVeth.apply(snap(), 'a')).loaded?.mode, 'native');
    assert.equal(xdpMode('v0'), 'native');
    assert.equal((await onLoopback.apply(snap(), 'a')).loaded?.mode, 'generic');
    assert.equal(xdpMode('lo'), 'generic');
  });

  test('a pinned map with another layout is replaced; the others are reused', async () => {
    const instance = `${netns.prefix}_m`;
    const maps = `/sys/fs/bpf/${instance}/maps`;
    mkdirSync(maps, { recursive: true });
    // An "old version" flow table whose values were 16 bytes.
    netns.run(ns, 'bpftool', [
      'map',
      'create',
      `${maps}/flows`,
      'type',
      'lru_hash',
      'key',
      '40',
      'value',
      '16',
      'entries',
      '16',
      'name',
      'flows',
    ]);
    const first = new XdpDsrApplier({ iface: 'v1', netns: ns, instance });
    appliers.push(first);
    const res = await first.apply(snap(), 'a');
    assert.deepEqual(res.loaded?.replaced, ['flows']);
    assert.ok(res.loaded?.created.includes('flows'));
    const again = new XdpDsrApplier({ iface: 'v1', netns: ns, instance });
    appliers.push(again);
    const res2 = await again.apply(snap(), 'a');
    assert.deepEqual(res2.loaded?.replaced, []);
    assert.deepEqual(res2.loaded?.created, []);
    assert.deepEqual([...(res2.loaded?.reused ?? [])].sort(), [
      'client_prefixes',
      'config',
      'counters',
      'flows',
      'nexthops',
      'peers',
      'vips',
    ]);
  });

  test('a second apply writes only what changed', async () => {
    const x = new XdpDsrApplier({ iface: 'v0', netns: ns, instance: `${netns.prefix}_w` });
    appliers.push(x);
    const s = snap();
    const one = await x.apply(s, 'a');
    assert.equal(one.writes, 2); // the VIP and the config
    const two = await x.apply(s, 'a');
    assert.equal(two.writes, 1); // the config only
    assert.equal(two.deletes, 0);
    const none = await x.apply(snapshot([edge('a', '10.0.0.1')], []), 'a');
    assert.equal(none.deletes, 1);
    assert.equal(none.summary.enabled, false);
  });

  test('remove() detaches and unpins; close() leaves the program running', async () => {
    const x = new XdpDsrApplier({ iface: 'lo', netns: ns, instance: `${netns.prefix}_r` });
    await x.apply(snap(), 'a');
    await x.close();
    assert.equal(xdpMode('lo'), 'generic');
    assert.ok(existsSync(`/sys/fs/bpf/${netns.prefix}_r/maps/flows`));
    await x.remove();
    assert.equal(xdpMode('lo'), undefined);
    assert.equal(existsSync(`/sys/fs/bpf/${netns.prefix}_r`), false);
  });
});
