/**
 * In-process cost of the query path: `Responder.respond` on the queries of `pnpm bench:dns`
 * (www.example.net A with an ECS /24 of a random network), embedded country database, demo
 * policy. No sockets, no kernel: what JS costs per query. Options: BENCH_QUERIES (2 000 000),
 * BENCH_RUNS (5), BENCH_DO (1: DO set, the signed twin).
 * `node --cpu-prof bench/dns-respond.ts` profiles it.
 */

import { compileSnapshot, Responder } from '../apps/dns/src/index.ts';
import { sealSnapshot } from '../packages/core/src/index.ts';
import { GeoDb } from '../packages/geo/src/index.ts';
import { demoBody } from '../packages/testkit/src/geo-fixtures.ts';

const QUERIES = Number(process.env.BENCH_QUERIES ?? 2_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const geo = new GeoDb({ watch: false });
const networks: { base: number; span: number }[] = [];
geo.forEachLocation(4, (bytes, length) => {
  networks.push({
    base: ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0,
    span: 2 ** (32 - length),
  });
});
const zones = compileSnapshot(sealSnapshot(1, demoBody()), geo);
const responder = new Responder(zones);
let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};
const name = Buffer.from([3, ...Buffer.from('www'), 7, ...Buffer.from('example'), 3, ...Buffer.from('net'), 0]);
const packets: Buffer[] = [];
for (let i = 0; i < 200_000; i++) {
  const n = networks[Math.floor(rand() * networks.length)]!;
  const v = n.base + Math.floor(rand() * n.span);
  const h = Buffer.alloc(12);
  h.writeUInt16BE(i & 0xffff, 0);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(1, 10);
  const ecs = Buffer.from([0, 8, 0, 7, 0, 1, 24, 0, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff]);
  const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, process.env.BENCH_DO === '1' ? 0x80 : 0, 0, 0, 0, ecs.length]);
  packets.push(Buffer.concat([h, name, Buffer.from([0, 1, 0, 1]), opt, ecs]));
}
const client = { family: 4 as const, bytes: new Uint8Array([192, 0, 2, 1]) };
for (let run = 0; run < RUNS; run++) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let bytes = 0;
  for (let i = 0; i < QUERIES; i++) {
    const p = packets[i % packets.length]!;
    bytes += responder.respond(p, p.length, client, false);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  // CPU time, not wall time: on a shared machine the wall clock counts time spent descheduled.
  const cpuNs = (c.user + c.system) * 1000;
  console.log(
    `run ${run + 1}: ${(cpuNs / QUERIES).toFixed(1)} ns CPU per query (wall ${(ns / QUERIES).toFixed(1)} ns), ${bytes} bytes`,
  );
}
geo.close();
