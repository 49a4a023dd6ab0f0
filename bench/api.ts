// `pnpm bench:api`: the operator API on PGlite and PostgreSQL with the demo configuration.
// Long-poll wake latency (publication → waiter's response), request throughput of a
// database-backed list, the snapshot fetch and /healthz (the baseline), and the latency of
// a dry-run action (two snapshot compiles). Every loop is bounded in time and count.
// Then the soak (bench/api-soak.ts) on PostgreSQL: CATCHMENT_SOAK_SECONDS (default 600; 0 skips it)
// at CATCHMENT_SOAK_RATE requests/s (default 20), sampled every CATCHMENT_SOAK_SAMPLE_MS (5000);
// CATCHMENT_SOAK_HEAP_SNAPSHOTS=<dir> writes heap snapshots at its start, middle and end;
// CATCHMENT_SOAK_ONLY=1 skips the measurements before it.

import { createToken, startApi } from '../apps/api/src/index.ts';
import { loadConfigFile, type Snapshot } from '../packages/core/src/index.ts';
import {
  type Database,
  importConfig,
  migrate,
  openDatabase,
  publications,
  publishSnapshot,
} from '../packages/db/src/index.ts';
// The postgres module only: the testkit index registers node:test hooks, which would end this script early.
import { startPostgres } from '../packages/testkit/src/postgres.ts';
import { soak } from './api-soak.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] ?? Number.NaN;
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function throughput(url: string, token: string, seconds: number, concurrency: number): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (Date.now() < until && done < 1_000_000) {
      const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
      done++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / ((Date.now() - started) / 1000);
}

async function bench(kind: string, database: Database) {
  await migrate(database);
  const cfg = await loadConfigFile(new URL('../config/demo.yaml', import.meta.url).pathname);
  await importConfig(database.db, cfg, { actor: 'bench' });
  await publishSnapshot(database.db, { actor: 'bench' });
  const { token } = await createToken(database.db, { name: 'bench', role: 'admin' });
  // Both limits lifted: this measures the API's throughput, not its limits.
  const api = await startApi({
    database,
    port: 0,
    rateLimit: { max: 1e9, timeWindowMs: 60_000 },
    snapshotRateLimit: { max: 1e9, timeWindowMs: 60_000 },
  });
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  try {
    // Long-poll wake: from the moment the snapshot is published to the waiter's full response.
    const wake: number[] = [];
    for (let i = 0; i < 40; i++) {
      const v = ((await (await fetch(`${api.url}/v1/snapshot`, { headers: auth })).json()) as Snapshot).version;
      let publishedAt = 0;
      const onPublished = () => {
        publishedAt = performance.now();
      };
      publications.once('published', onPublished);
      const waiter = fetch(`${api.url}/v1/snapshot?since=${v}&wait=30`, { headers: auth }).then(async (r) => {
        await r.arrayBuffer();
        return performance.now();
      });
      await new Promise((r) => setTimeout(r, 20));
      const path = i % 2 === 0 ? 'drain' : 'undrain';
      const res = await fetch(`${api.url}/v1/edges/lhr/${path}`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ reason: 'bench' }),
      });
      await res.arrayBuffer();
      const answeredAt = await waiter;
      publications.off('published', onPublished);
      wake.push(answeredAt - publishedAt);
    }
    const dry: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      const r = await fetch(`${api.url}/v1/edges/fra/shift`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ reason: 'bench', dryRun: true, params: { percent: 10 } }),
      });
      await r.arrayBuffer();
      dry.push(performance.now() - t0);
    }
    const healthz = await throughput(`${api.url}/healthz`, token, 3, 16);
    const edges = await throughput(`${api.url}/v1/edges`, token, 3, 16);
    const snapshot = await throughput(`${api.url}/v1/snapshot`, token, 3, 16);
    console.log(
      `${kind}: long-poll wake median ${ms(median(wake))} p95 ${ms(p95(wake))} max ${ms(Math.max(...wake))} (40 publications); ` +
        `dry-run action median ${ms(median(dry))}; req/s with 16 clients: /healthz ${healthz.toFixed(0)}, ` +
        `GET /v1/edges ${edges.toFixed(0)}, GET /v1/snapshot ${snapshot.toFixed(0)}`,
    );
  } finally {
    await api.close();
    await database.close();
  }
}

process.env.CATCHMENT_LOG_LEVEL ??= 'silent';
// CATCHMENT_SOAK_ONLY=1: the soak alone (looking for a leak).
const soakOnly = process.env.CATCHMENT_SOAK_ONLY === '1';
if (!soakOnly) await bench('pglite', await openDatabase({ dataDir: 'memory' }));
const cluster = await startPostgres();
try {
  if (!soakOnly) await bench('postgres', await openDatabase({ url: await cluster.createDatabase() }));
  const seconds = Number(process.env.CATCHMENT_SOAK_SECONDS ?? 600);
  if (seconds > 0) {
    const databaseUrl = await cluster.createDatabase();
    const database = await openDatabase({ url: databaseUrl });
    await migrate(database);
    const cfg = await loadConfigFile(new URL('../config/demo.yaml', import.meta.url).pathname);
    await importConfig(database.db, cfg, { actor: 'bench' });
    await publishSnapshot(database.db, { actor: 'bench' });
    const admin = (await createToken(database.db, { name: 'soak-admin', role: 'admin' })).token;
    const agents: string[] = [];
    for (let k = 0; k < 5; k++)
      agents.push((await createToken(database.db, { name: `soak-dns-${k}`, role: 'agent' })).token);
    await database.close();
    await soak({
      databaseUrl,
      admin,
      agents,
      seconds: Math.min(seconds, 24 * 3600),
      rate: Math.min(1000, Number(process.env.CATCHMENT_SOAK_RATE ?? 20)),
      sampleMs: Math.max(500, Number(process.env.CATCHMENT_SOAK_SAMPLE_MS ?? 5000)),
      heapSnapshots: process.env.CATCHMENT_SOAK_HEAP_SNAPSHOTS,
    });
  }
} finally {
  await cluster.stop();
}
