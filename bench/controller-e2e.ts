// `pnpm bench:controller-e2e`: the benchmark. Time from a signal reaching the API
// (POST /v1/signals, what the Alertmanager webhook ends in) to each effect of the first
// playbook step: DNS answers changed at a DNS server following the API (dig +subnet), the
// /24 gone from the transit's RIB (BIRD, network-namespace lab), the DSR fraction in the
// edge's XDP map. One playbook per effect so each is measured as a first step; N runs each,
// medians. Baseline in the same session: the same with the controller's wake-up off
// (its 2 s schedule alone). Needs root (namespaces, BPF), bird2, bpftool, clang, dig.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createToken, startApi } from '../apps/api/src/index.ts';
import { Controller } from '../apps/controller/src/index.ts';
import { addPlaybook, NORMAL_LOADS, reportLoads, seedWorld } from '../apps/controller/test/fixtures.ts';
import { createDnsServer } from '../apps/dns/src/index.ts';
import { freePort } from '../apps/dns/test/helpers.ts';
import { startEdgeAgent } from '../apps/edge/src/index.ts';
import { Config, decodeStruct, Tools, XdpDsrApplier } from '../apps/edge/src/xdp/index.ts';
import { type Snapshot, SnapshotFollower } from '../packages/core/src/index.ts';
import { migrate, openDatabase, publishSnapshot, schema } from '../packages/db/src/index.ts';
import { BirdSpeaker } from '../packages/routing/src/index.ts';
import { BgpLab } from '../packages/routing/test/lab.ts';
import { startPostgres } from '../packages/testkit/src/postgres.ts';
import { tempDir } from '../packages/testkit/src/tmp.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (let i = 0; i < 100_000 && Date.now() < end; i++) {
    if (await check().catch(() => false)) return;
    await sleep(10);
  }
  throw new Error('timed out');
}

const lab = await BgpLab.create({ edges: ['fra', 'iad', 'sin', 'lhr'] });
const cluster = await startPostgres();
const database = await openDatabase({ url: await cluster.createDatabase('bench') });
await migrate(database);
const dir = await tempDir('catchment-bench-');
const cleanups: (() => Promise<unknown>)[] = [];
try {
  const db = database.db;
  // The bench flaps lhr's /24 on purpose: lift the route-change budget that would (rightly) stop it.
  const ids = await seedWorld(db, {
    settings: { routeChangesPerPrefixPerHour: 1000 },
    edit: (c) => c.policies?.[0]?.rules.unshift({ match: { cidr: '192.0.2.0/24' }, edges: ['lhr'] }),
  });
  const operator = (await createToken(db, { name: 'monitoring', role: 'operator' })).token;
  await publishSnapshot(db, { actor: 'bench' });
  const api = await startApi({ database, port: 0 });
  cleanups.push(() => api.close());
  const lhr = lab.edge('lhr');
  const xdp = new XdpDsrApplier({ iface: `${lab.id}e4`, netns: lhr.ns, instance: `catchment_bench_${process.pid}` });
  cleanups.push(() => xdp.remove());
  for (const name of ['fra', 'iad', 'sin', 'lhr']) {
    const e = lab.edge(name);
    const token = (await createToken(db, { name: `edge-${name}`, role: 'agent' })).token;
    const agent = await startEdgeAgent({
      edge: name,
      speaker: new BirdSpeaker({ socket: e.socket, includeFile: e.includeFile, mainConfig: e.mainConfig }),
      follower: new SnapshotFollower({
        apiUrl: api.url,
        token,
        cacheFile: join(e.dir, 'snap.json'),
        waitSeconds: 30,
        retryMs: 100,
      }),
      apiUrl: api.url,
      token,
      reconcileCron: '*/30 * * * * *',
      reportIntervalMs: 0,
      http: false,
      ...(name === 'lhr' ? { appliers: [xdp] } : {}),
    });
    cleanups.push(() => agent.stop());
  }
  const port = await freePort();
  const dns = await createDnsServer({ listen: [{ address: '127.0.0.1', port }], workers: 0 });
  cleanups.push(() => dns.close());
  const dnsToken = (await createToken(db, { name: 'dns-1', role: 'agent' })).token;
  const follower = new SnapshotFollower({
    apiUrl: api.url,
    token: dnsToken,
    cacheFile: join(dir.path, 'dns.json'),
    waitSeconds: 30,
  });
  follower.on('snapshot', (s: Snapshot) => void dns.setSnapshot(s));
  await follower.start();
  cleanups.push(() => follower.stop());

  const dig = async () =>
    (
      await run('dig', [
        '@127.0.0.1',
        '-p',
        String(port),
        'www.example.net',
        'A',
        '+subnet=192.0.2.0/24',
        '+short',
        '+tries=1',
        '+time=1',
      ])
    ).stdout.trim();
  const lhr24 = async () => (await lab.transitView()).some((l) => l.startsWith('lhr4 198.18.4.0/24'));
  const tools = new Tools({ netns: lhr.ns });
  const fraction = async () => {
    const prog = await xdp.program;
    const entries = await tools.json<{ value: string[] }[]>(['map', 'dump', 'pinned', prog.mapPath('config')]);
    const v = entries[0]?.value;
    return v
      ? Number(
          (decodeStruct(Config, Buffer.from(v.map((h) => Number.parseInt(h, 16)))) as { fraction: number }).fraction,
        )
      : 0;
  };
  await until(async () => (await dig()) === '198.18.4.10' && (await lhr24()), 60_000);

  const effects = {
    'DNS answers changed': {
      step: { kind: 'dns-shift' as const, schedule: [100], verify: { within: '10m' }, dwell: '1s' },
      on: async () => (await dig()) !== '198.18.4.10',
      off: async () => (await dig()) === '198.18.4.10',
    },
    '/24 gone from the transit RIB': {
      step: { kind: 'withdraw-unicast' as const, verify: { within: '10m' }, dwell: '1s' },
      on: async () => !(await lhr24()),
      off: lhr24,
    },
    'XDP map updated': {
      step: { kind: 'dsr-shed' as const, fraction: 0.25, verify: { within: '10m' }, dwell: '1s' },
      on: async () => (await fraction()) === 16384,
      off: async () => (await fraction()) === 0,
    },
  };
  let n = 0;
  const results: string[] = [];
  for (const wake of [true, false]) {
    const controller = new Controller({ database, http: false, name: 'bench' });
    await controller.start();
    if (!wake) await controller.stopWake();
    for (const [label, e] of Object.entries(effects)) {
      if (process.env.BENCH_ONLY && !label.startsWith(process.env.BENCH_ONLY)) continue;
      const pbName = `bench-${++n}`;
      await addPlaybook(db, { name: pbName, trigger: { alert: { alertname: pbName } }, steps: [e.step] });
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        await reportLoads(db, ids, NORMAL_LOADS, new Date());
        await sleep(137 * (i % 13)); // not aligned with the schedule
        const body = (status: string, startsAt: string) =>
          JSON.stringify({
            source: 'bench',
            name: pbName,
            status,
            fingerprint: `${pbName}-${i}`,
            labels: { alertname: pbName, edge: 'lhr' },
            edge: 'lhr',
            startsAt,
          });
        const startsAt = new Date().toISOString();
        const headers = { authorization: `Bearer ${operator}`, 'content-type': 'application/json' };
        const t0 = performance.now();
        await fetch(`${api.url}/v1/signals`, { method: 'POST', headers, body: body('firing', startsAt) });
        await until(e.on).catch(async (err) => {
          const runs = await db.select().from(schema.playbookRuns);
          const steps = await db.select().from(schema.runSteps);
          console.error(
            JSON.stringify({
              runs: runs.map((r) => [r.id, r.state]),
              steps: steps.map((s) => [s.runId, s.kind, s.state, s.refusal]),
            }),
          );
          throw err;
        });
        times.push(performance.now() - t0);
        await fetch(`${api.url}/v1/signals`, { method: 'POST', headers, body: body('resolved', startsAt) });
        await until(e.off);
        await until(async () => (await db.select().from(schema.playbookRuns)).every((r) => r.endedAt !== null));
      }
      const sorted = [...times].sort((a, b) => a - b);
      const line = `${wake ? 'wake-up + schedule' : 'schedule only     '}  ${label.padEnd(30)} median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ms  min ${sorted[0]?.toFixed(0)} ms  max ${sorted.at(-1)?.toFixed(0)} ms  (n=${times.length})`;
      console.log(line);
      results.push(line);
    }
    await controller.stop();
  }
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await database.close();
  await cluster.stop();
  await lab.destroy();
  await dir.remove();
}
process.exit(0);
