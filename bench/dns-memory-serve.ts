/**
 * Child process of `pnpm bench:dns-memory`: one real DNS server (createDnsServer) with the
 * City database of argv[2], argv[3] worker threads, on port argv[4], snapshots made from the
 * body in the JSON file argv[5]; driven by commands on stdin, answering one JSON line per
 * command on stdout. Run with --expose-gc so that heap figures are live data. Imports only
 * what a DNS server process imports (no test fixtures: they pull in the database stack).
 *   load         first snapshot: table build + load in every thread
 *   swap <n>     n snapshots that toggle an edge's state (incremental rebuild each)
 *   reload       GeoIP files re-read: a full rebuild
 *   mem          RSS, heap and array buffers of the process after a GC of the main thread
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createDnsServer } from '../apps/dns/src/server.ts';
import type { SnapshotBody } from '../packages/core/src/index.ts';
import { sealSnapshot } from '../packages/core/src/snapshot.ts';

const city = process.argv[2]!;
const workers = Number(process.argv[3] ?? 0);
const port = Number(process.argv[4] ?? 0);
const bodyText = readFileSync(process.argv[5]!, 'utf8');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

let started = performance.now();
const server = await createDnsServer({
  listen: [{ address: '127.0.0.1', port }],
  workers,
  geo: { city, watch: false },
});
const startMs = Math.round(performance.now() - started);
let version = 0;

const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function swap(): Promise<number> {
  version++;
  const body = JSON.parse(bodyText) as SnapshotBody;
  // Edge 3 (lhr) alternates between usable and down: its clients move, so answers change.
  const e = body.edges[3]!;
  e.usable = version % 2 === 1;
  e.state = e.usable ? 'active' : 'down';
  started = performance.now();
  await server.setSnapshot(sealSnapshot(version, body));
  return performance.now() - started;
}

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === 'load') {
    const ms = await swap();
    say({ startMs, loadMs: Math.round(ms) });
  } else if (cmd === 'swap') {
    const times: number[] = [];
    for (let i = 0; i < Number(arg ?? 1); i++) times.push(await swap());
    say({ swaps: times.length, swapMs: Math.round(median(times)) });
  } else if (cmd === 'reload') {
    started = performance.now();
    await server.reload();
    say({ reloadMs: Math.round(performance.now() - started) });
  } else if (cmd === 'mem') {
    // ArrayBuffers are released by the sweeper after the GC, and workers collect within a
    // second of a swap (worker.ts): measure once both have happened.
    gc();
    await new Promise((r) => setTimeout(r, 1500));
    gc();
    const m = process.memoryUsage();
    const mb = (n: number) => Math.round(n / 2 ** 20);
    say({ rss: mb(m.rss), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) });
  } else if (cmd === 'quit') {
    await server.close();
    say({ closed: true });
    process.exit(0);
  }
}
