/**
 * Run by capabilities.test.ts as an unprivileged user inside a test namespace: the edge agent's
 * XDP applier loads, pins and attaches the DSR program on `v0`, as catchment-edge.service runs it.
 * argv: instance (pin name), object file. Prints the load result as JSON.
 */

import { dsr, edge, snapshot } from '@catchment/testkit/dsr-snapshots';
import { XdpDsrApplier } from '../../src/xdp/applier.ts';

const [instance, object] = process.argv.slice(2);
const applier = new XdpDsrApplier({ iface: 'v0', instance: instance!, object: object! });
const snap = snapshot(
  [edge('a', '10.0.0.1'), edge('b', '10.0.0.2')],
  [dsr('a', { vips: [{ address: '10.9.0.1', port: 80 }], targets: [{ edge: 'b', address: '10.0.0.2', weight: 1 }] })],
);
const r = await applier.apply(snap, 'a');
process.stdout.write(`${JSON.stringify({ uid: process.getuid?.(), loaded: r.loaded ?? null })}\n`);
await applier.close();
