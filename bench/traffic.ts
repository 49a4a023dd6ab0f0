// `pnpm bench:traffic`: one overload, four shedding strategies, in one traffic lab
// (packages/testkit/src/traffic-lab: real clients, ECS unbound, two BIRD transits, four
// edges with XDP and HTTP servers, Catchment, Prometheus → Alertmanager → API → controller).
// The overload: region gb offers lhr (capacity 40 req/s, rule threshold 36) 50 new
// connections/s: 35/s resolve www.example.net (TTL 60 s, honoured by the resolver), 15/s keep
// connecting to lhr's address (stale caches). Each strategy is a playbook; per strategy:
//   time from the overload's start (and from the alert reaching the API) to relief (lhr's
//   served rate, from its HTTP server via Prometheus, back under the threshold and staying
//   there for 5 s),
//   overload-seconds (1 s samples over the threshold in a fixed window), connections broken,
//   share of gb's connections served by an edge other than lhr (farther); relief as the clients
//   saw it (connections lhr served in the last second, from their own records, every 50 ms);
//   and where the time goes: alert → the routing step's stage → its snapshot → lhr's agent
//   applied it → the first connection to lhr's address that fra served.
// BENCH_STRATEGIES=3,4 runs only those strategies (positions in STRATEGIES, from 0).
// Needs root (namespaces, BPF). BENCH_WINDOW_S (default 70) is the observation window.
import { createToken, startApi } from '../apps/api/src/index.ts';
import { buildBpf } from '../apps/edge/src/xdp/index.ts';
import { promQuery } from '../packages/core/src/index.ts';
import { schema } from '../packages/db/src/index.ts';
import {
  byEdge,
  byOutcome,
  type ConnectionRecord,
  LAB_EDGES,
  Traffic,
  TrafficLab,
} from '../packages/testkit/src/traffic-lab/index.ts';
import { addPlaybook } from '../packages/testkit/src/world.ts';

const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 70);
const TTL = 60;
// A step holds for 5 min once the alert resolves (the offered load stays high for the whole
// window); after the window the run is aborted, which reverts what it applied at once.
const step = { verify: { within: '3s' }, dwell: '5m' };
type Steps = Parameters<typeof addPlaybook>[1]['steps'];
const STRATEGIES: { name: string; steps: Steps }[] = [
  { name: 'DNS only (TTL 60 s)', steps: [{ kind: 'dns-shift', schedule: [25, 50], ...step }] },
  {
    name: 'DNS + unicast withdrawal',
    steps: [
      { kind: 'dns-shift', schedule: [25], ...step },
      { kind: 'withdraw-unicast', ...step },
    ],
  },
  {
    name: 'DNS + DSR',
    steps: [
      { kind: 'dns-shift', schedule: [25], ...step },
      { kind: 'dsr-shed', fraction: 0.5, targets: ['fra'], ...step },
    ],
  },
  // The same routing steps as the first stage (the playbook model has no parallel steps in a
  // stage): the time from the alert to relief without the DNS step's verify window before them.
  {
    name: 'withdrawal first',
    steps: [
      { kind: 'withdraw-unicast', ...step },
      { kind: 'dns-shift', schedule: [25], ...step },
    ],
  },
  {
    name: 'DSR first',
    steps: [
      { kind: 'dsr-shed', fraction: 0.5, targets: ['fra'], ...step },
      { kind: 'dns-shift', schedule: [25], ...step },
    ],
  },
  {
    name: 'full playbook',
    steps: [
      { kind: 'dns-shift', schedule: [25], ...step },
      { kind: 'dsr-shed', fraction: 0.5, targets: ['fra'], ...step },
      { kind: 'withdraw-unicast', ...step },
      { kind: 'communities', transit: 'transit-a', intents: ['lower-local-pref'], ...step },
    ],
  },
];

const only = process.env.BENCH_STRATEGIES?.split(',').map(Number);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lhr = LAB_EDGES.find((e) => e.name === 'lhr')!;
const lab = await TrafficLab.start({ api: { startApi, createToken }, bpf: await buildBpf() });
const threshold = 0.9 * lab.capacity.lhr!;
const results: Record<string, string | number>[] = [];
try {
  const svc = await lab.call<Record<string, unknown>>('GET', '/v1/services/www.example.net');
  delete svc.id;
  await lab.call('PUT', '/v1/services/www.example.net', { ...svc, ttl: TTL });
  const served = async () =>
    (await promQuery(lab.monitoring.prometheusUrl, 'rate(catchment_lab_http_requests_total{edge="lhr"}[3s])'))[0]
      ?.value ?? 0;
  for (const [i, s] of STRATEGIES.entries()) {
    if (only && !only.includes(i)) continue;
    await lab.net.restartResolver(TTL);
    const name = `bench-${i}`;
    await addPlaybook(lab.database.db, {
      name,
      mode: 'auto',
      trigger: { alert: { alertname: 'EdgeOverloaded', edge: 'lhr' } },
      steps: s.steps,
    });
    const base = { durationMs: (WINDOW_S + 120) * 1000, timeoutMs: 3000, longEvery: 10, longBytes: 1024 * 1024 };
    const dnsClients = Traffic.start(lab.net, 'gb', { rate: 10, ...base });
    const fixedClients = Traffic.start(lab.net, 'gb', { rate: 5, target: lhr.address, ...base });
    await sleep(4000);
    const t0 = Date.now();
    dnsClients.setRate(35);
    fixedClients.setRate(15);
    // Where the time goes: when each snapshot version was published, and when lhr's and fra's
    // agents applied it (their reports carry the version and the apply time).
    const applied = new Map<string, number>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const rows = await lab.database.db.select().from(schema.consumers);
        for (const c of rows) {
          const at = (c.details as { lastApplyAt?: string } | null)?.lastApplyAt;
          const key = `${c.name}@${c.snapshotVersion}`;
          if (at && !applied.has(key)) applied.set(key, Date.parse(at));
        }
        await sleep(100);
      }
    })();
    const samples: { t: number; rps: number }[] = [];
    for (let k = 0; k < WINDOW_S * 4 && Date.now() - t0 < WINDOW_S * 1000; k++) {
      samples.push({ t: Date.now(), rps: await served() });
      await sleep(1000 - ((Date.now() - t0) % 1000));
    }
    const [alert] = (await lab.database.db.select().from(schema.signals)).filter(
      (x) => x.name === 'EdgeOverloaded' && x.receivedAt.getTime() >= t0,
    );
    const alertAt = alert?.receivedAt.getTime();
    const overAt = samples.find((x) => x.rps > threshold)?.t;
    // Relief: the first sample after which lhr stays under the threshold for 5 s (or to the window's end).
    const relief =
      overAt === undefined
        ? undefined
        : samples.find((x, j) => x.t > overAt && samples.slice(j).every((y) => y.t - x.t > 5000 || y.rps < threshold))
            ?.t;
    const overloadSeconds = samples.filter((x) => x.rps > threshold).length;
    watching = false;
    await watcher;
    dnsClients.setRate(10);
    fixedClients.setRate(5);
    const runs = await lab.call<{ items: { id: number; state: string; playbook: string; startedAt: string }[] }>(
      'GET',
      '/v1/runs',
    );
    const steps: string[] = [];
    let routingStepAt: number | undefined;
    let runStartedAt: number | undefined;
    for (const r of runs.items.filter((x) => x.playbook === name)) {
      const full = await lab.call<{ steps: { kind: string; stage: number; state: string; startedAt: string }[] }>(
        'GET',
        `/v1/runs/${r.id}`,
      );
      // The first step past DNS (withdrawal or DSR): what the targets' "relief < 2 s" is about.
      const beyondDns = full.steps.find((x) => x.kind !== 'dns-shift');
      if (beyondDns && routingStepAt === undefined) routingStepAt = Date.parse(beyondDns.startedAt);
      runStartedAt ??= Date.parse(r.startedAt);
      steps.push(...full.steps.map((x) => `${x.kind}${x.kind === 'dns-shift' ? `#${x.stage}` : ''}:${x.state}`));
      if (r.state !== 'resolved' && r.state !== 'aborted')
        await lab
          .call('POST', `/v1/runs/${r.id}/abort`, { reason: 'bench: next strategy' })
          .catch((e) => console.error(String(e)));
    }
    await sleep(4000);
    dnsClients.stop();
    fixedClients.stop();
    const records: ConnectionRecord[] = [...(await dnsClients.done()), ...(await fixedClients.done())];
    const inWindow = records.filter((r) => r.t >= t0 && r.t < t0 + WINDOW_S * 1000);
    const broken = records.filter((r) => r.outcome !== 'completed');
    // Connections to lhr's address that fra served (redirected by DSR, or by routing after the withdrawal).
    const dsrBroken = broken.filter((r) => r.edge === 'fra' && r.dst === lhr.address);
    // Short requests that took over 1 s: a SYN lost and retransmitted (e.g. a receiver not yet accepting a peer).
    const slow = records.filter((r) => r.kind === 'short' && r.end - r.t > 900);
    console.log(
      `  short requests over 0.9 s: ${slow.length} ${JSON.stringify(byEdge(slow))}; at fra for lhr's address, first 3 s after the step: ${
        slow.filter(
          (r) => r.edge === 'fra' && r.dst === lhr.address && routingStepAt !== undefined && r.t < routingStepAt + 3000,
        ).length
      }`,
    );
    const farther = inWindow.filter((r) => r.edge !== '' && r.edge !== 'lhr').length / Math.max(inWindow.length, 1);
    // The routing step's path: its stage (controller tick start) → the snapshot that carries it
    // → lhr's agent applied it → the first connection to lhr's address that fra served →
    // relief counted from the clients' own records (connections lhr served, per second of
    // their start: no Prometheus rate window).
    const published =
      routingStepAt === undefined
        ? undefined
        : (
            await lab.database.db
              .select({ version: schema.snapshots.version, at: schema.snapshots.createdAt })
              .from(schema.snapshots)
          )
            .filter((x) => x.at.getTime() >= routingStepAt - 1000)
            .sort((a, b) => a.version - b.version)[0];
    const lhrApplied = published && applied.get(`edge:lhr@${published.version}`);
    const moved =
      routingStepAt === undefined
        ? undefined
        : records
            .filter((r) => r.t >= routingStepAt && r.dst === lhr.address && r.edge === 'fra')
            .sort((a, b) => a.t - b.t)[0]?.t;
    const perSecond = Array.from(
      { length: WINDOW_S },
      (_, k) => records.filter((r) => r.edge === 'lhr' && r.t >= t0 + k * 1000 && r.t < t0 + (k + 1) * 1000).length,
    );
    // The clients' view, every 50 ms: connections lhr served that began in the second before.
    const lhrStarts = records.filter((r) => r.edge === 'lhr').map((r) => r.t);
    const clientRate = (at: number) => lhrStarts.filter((x) => x > at - 1000 && x <= at).length;
    const grid = Array.from({ length: WINDOW_S * 20 }, (_, k) => t0 + 1000 + k * 50).map((t) => ({
      t,
      n: clientRate(t),
    }));
    const clientOver = grid.find((x) => x.n > threshold)?.t;
    const clientRelief =
      clientOver === undefined
        ? undefined
        : grid.find((x, j) => x.t > clientOver && grid.slice(j).every((y) => y.t - x.t > 5000 || y.n < threshold))?.t;
    const ms = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined ? '-' : String(b - a);
    const phases = {
      'alert→run': ms(alertAt, runStartedAt),
      'alert→step': ms(alertAt, routingStepAt),
      'step→published': ms(routingStepAt, published?.at.getTime()),
      'published→lhr applied': ms(published?.at.getTime(), lhrApplied),
      'published→first moved': ms(published?.at.getTime(), moved),
    };
    const row = {
      strategy: s.name,
      'relief from overload (s)': relief === undefined ? `> ${WINDOW_S}` : ((relief - t0) / 1000).toFixed(1),
      'relief from alert at API (s)':
        relief === undefined || alertAt === undefined ? '-' : ((relief - alertAt) / 1000).toFixed(1),
      'relief from the withdrawal / DSR step (s)':
        relief === undefined || routingStepAt === undefined ? '-' : ((relief - routingStepAt) / 1000).toFixed(1),
      'relief from alert, seen by the clients (s)':
        clientRelief === undefined || alertAt === undefined ? '-' : ((clientRelief - alertAt) / 1000).toFixed(2),
      'overload-seconds': overloadSeconds,
      'connections broken': `${broken.length} of ${records.length} ${JSON.stringify(byOutcome(broken))}`,
      'broken at fra': dsrBroken.length,
      steps: steps.join(' '),
      'served farther': `${(farther * 100).toFixed(0)} %`,
      phases: JSON.stringify(phases),
    };
    console.log(JSON.stringify(row));
    console.log(`  lhr served req/s per second: ${samples.map((x) => x.rps.toFixed(0)).join(' ')}`);
    console.log(`  lhr connections per second (clients' records): ${perSecond.join(' ')}`);
    results.push(row);
    await lab.call('DELETE', `/v1/playbooks/${name}`).catch(() => undefined);
    // Back to the steady state for the next strategy: every action gone, lhr answering gb again.
    const active = await lab.call<{ items: { id: number; active: boolean }[] }>('GET', '/v1/actions');
    for (const a of active.items.filter((x) => x.active))
      await lab.call('POST', `/v1/actions/${a.id}/revert`, { reason: 'bench reset' }).catch(() => undefined);
  }
} finally {
  await lab.stop();
}
const cols = Object.keys(results[0] ?? {});
console.log(`\n| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|`);
for (const r of results) console.log(`| ${cols.map((c) => r[c]).join(' | ')} |`);
