// The API under soak (bench/api-soak.ts), in a process of its own so RSS, heap and event-loop
// delay are the API's alone. The database (BENCH_DATABASE_URL) is prepared by the parent. Every
// BENCH_SAMPLE_MS it sends {rss, heapUsed, external, eldP50, eldP99} (bytes, ms) over IPC; with
// BENCH_HEAP_SNAPSHOTS set it writes a heap snapshot into that folder on a {heapSnapshot} message.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { startApi } from '../apps/api/src/index.ts';
import { openDatabase } from '../packages/db/src/index.ts';

const url = process.env.BENCH_DATABASE_URL;
if (!url) throw new Error('BENCH_DATABASE_URL is required');
const sampleMs = Number(process.env.BENCH_SAMPLE_MS ?? 5000);
process.env.CATCHMENT_LOG_LEVEL ??= 'silent';

const database = await openDatabase({ url });
const api = await startApi({ database, port: 0, rateLimit: { max: 1e9, timeWindowMs: 60_000 } });
const eld = monitorEventLoopDelay({ resolution: 5 });
eld.enable();
const timer = setInterval(() => {
  const m = process.memoryUsage();
  process.send?.({
    sample: {
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      eldP50: eld.percentile(50) / 1e6,
      eldP99: eld.percentile(99) / 1e6,
    },
  });
  eld.reset();
}, sampleMs);
process.on('message', (m: { heapSnapshot?: string }) => {
  const dir = process.env.BENCH_HEAP_SNAPSHOTS;
  if (dir && m.heapSnapshot) process.send?.({ wrote: writeHeapSnapshot(`${dir}/${m.heapSnapshot}.heapsnapshot`) });
});
process.send?.({ url: api.url });
// Stops with the bench: on SIGTERM, or when the bench process is gone (IPC closed).
const stop = () => {
  clearInterval(timer);
  void api
    .close()
    .then(() => database.close())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
