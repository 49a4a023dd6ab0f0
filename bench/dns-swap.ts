/**
 * `pnpm bench:dns-swap`: how long a DNS server takes to swap in a new snapshot when only edge
 * state, shift, watermark share or load changed (what shedding and load-only publications produce), with the embedded country database.
 * For each kind of change: the full table build every snapshot used to pay (`buildSteering`),
 * the incremental build (`SteeringBuilder`, geo tries and unchanged subtrees reused), and the
 * whole swap in a running server (`setSnapshot`: verify, build, share, load in every worker).
 * Bounded: BENCH_RUNS (7) changes per kind. Option: BENCH_WORKERS (2).
 */

import { createDnsServer } from '../apps/dns/src/index.ts';
import { type SnapshotBody, sealSnapshot } from '../packages/core/src/index.ts';
import { buildSteering, GeoDb, SteeringBuilder } from '../packages/geo/src/index.ts';
import { demoBody } from '../packages/testkit/src/geo-fixtures.ts';
import { freePort } from '../packages/testkit/src/index.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** The kinds of change a shedding run publishes; `i` varies the value from run to run. */
const kinds: [string, (b: SnapshotBody, i: number) => void][] = [
  [
    'load only (utilisation < 1)',
    (b, i) => {
      const e = b.edges[2]!;
      e.loadRps = 10000 + i * 1000;
      e.utilisation = e.loadRps / e.capacityRps;
    },
  ],
  [
    'edge usable/unusable',
    (b, i) => {
      const e = b.edges[3]!;
      e.usable = i % 2 === 1;
      e.state = e.usable ? 'active' : 'down';
    },
  ],
  [
    'shiftPercent of one edge',
    (b, i) => {
      b.edges[1]!.shiftPercent = 5 + 5 * i;
    },
  ],
  [
    'watermark share of one edge (load-only publication)',
    (b, i) => {
      const e = b.edges[1]!;
      e.loadRps = e.capacityRps * (0.7 + 0.02 * i);
      e.utilisation = e.loadRps / e.capacityRps;
      e.watermarks = { low: 0.68, high: 0.8075, demandRps: e.loadRps, percent: 3 + 4 * i };
    },
  ],
  [
    'load of a shift target (shift active)',
    (b, i) => {
      b.edges[1]!.shiftPercent = 20;
      const e = b.edges[0]!;
      e.loadRps = 20000 + i * 5000;
      e.utilisation = e.loadRps / e.capacityRps;
    },
  ],
];

const geo = new GeoDb({ watch: false });
const rows: string[] = [];
console.log(`bench:dns-swap: ${RUNS} changes per kind, embedded country database, ${WORKERS} workers`);
let version = 1;
const port = await freePort();
const body = demoBody();
const server = await createDnsServer({
  listen: [{ address: '127.0.0.1', port }],
  workers: WORKERS,
  snapshot: sealSnapshot(version++, body),
});
try {
  const builder = new SteeringBuilder();
  builder.build(body, geo);
  for (const [label, change] of kinds) {
    const full: number[] = [];
    const inc: number[] = [];
    const swap: number[] = [];
    // Settle into the kind's steady state first (e.g. the shift that the next changes vary).
    change(body, 0);
    builder.build(body, geo);
    await server.setSnapshot(sealSnapshot(version++, structuredClone(body)));
    for (let i = 1; i <= RUNS; i++) {
      change(body, i);
      let t = performance.now();
      buildSteering(body, geo);
      full.push(performance.now() - t);
      t = performance.now();
      builder.build(body, geo);
      inc.push(performance.now() - t);
      t = performance.now();
      await server.setSnapshot(sealSnapshot(version++, structuredClone(body)));
      swap.push(performance.now() - t);
    }
    const row = `| ${label} | ${median(full).toFixed(0)} | ${median(inc).toFixed(0)} | ${median(swap).toFixed(0)} |`;
    rows.push(row);
    console.log(row);
  }
} finally {
  await server.close();
  geo.close();
}
console.log('\n| change | full build (before), ms | incremental build, ms | server swap (after), ms |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(r);
