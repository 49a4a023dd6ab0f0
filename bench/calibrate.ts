// `pnpm bench:calibrate`: the simulator against the traffic lab, one flash crowd, side by side.
// The scenario is docs/scenarios/lab-flash-crowd.yaml (the lab's edges, client regions, GeoIP
// database, resolver and alert, as a simulator scenario): gb offers lhr (capacity 40 req/s) 15
// new connections/s, then 50 from 4 s after the clients start (35/s resolve www.example.net
// through the lab's unbound, TTL 60 s honoured; 15/s keep connecting to lhr's address). Each
// strategy is the scenario's playbook cut down as the simulator cuts it (`strategyConfig`), so
// both sides run the same steps: in the lab as a playbook through Prometheus → Alertmanager → API
// → controller, as bench/traffic.ts runs its strategies (the same lab, driver and step settings);
// in the simulator through `catchment simulate`'s runner (the real controller on simulated time).
// Per strategy, both measured the same way on lhr's served requests per second (the lab: the
// connections lhr served, per second of their start, from the clients' own records; the
// simulator: its per-second load), from the crowd's start:
//   time to relief: the first second after the first one over 90 % of capacity (the alert's
//     threshold, 36 req/s) that starts 5 s under it (or runs under it to the window's end);
//   overload-seconds: seconds over that threshold in the window;
//   moved share: the share of gb's connections (load) in the window served by another edge.
// The lab runs every strategy BENCH_RUNS times (default 2, at most 5), interleaved; the table
// gives each lab run, the median, the simulator's value, the ratio and whether the difference is
// within the tolerance stated in TOLERANCE (docs/benchmarks.md justifies it from the lab's spread).
// Options: BENCH_STRATEGIES=dns-ttl60,full (default dns-ttl60,dns-withdraw,full);
// BENCH_WINDOW_S (default 70, at most 120); BENCH_LAB=0 runs the simulator side only.
// The lab needs root (namespaces, BPF); its traffic stays inside its namespaces; it is stopped
// (namespaces deleted) at the end, also on failure.
import { loadavg } from 'node:os';
import { createToken, startApi } from '../apps/api/src/index.ts';
import { simulationRunner } from '../apps/cli/src/simulate/runner.ts';
import { buildBpf } from '../apps/edge/src/xdp/index.ts';
import { type CatchmentConfig, loadConfigFile } from '../packages/core/src/index.ts';
import { schema } from '../packages/db/src/index.ts';
import {
  loadScenarioFile,
  type RunResult,
  STRATEGIES,
  type StrategyName,
  strategyConfig,
} from '../packages/sim/src/index.ts';
import { type ConnectionRecord, LAB_EDGES, Traffic, TrafficLab } from '../packages/testkit/src/traffic-lab/index.ts';
import { until } from '../packages/testkit/src/wait.ts';
import { addPlaybook } from '../packages/testkit/src/world.ts';

const SCENARIO = new URL('../docs/scenarios/lab-flash-crowd.yaml', import.meta.url).pathname;
const EDGE = 'lhr';
const WINDOW_S = Math.min(Number(process.env.BENCH_WINDOW_S ?? 70), 120);
const RUNS = Math.max(1, Math.min(Number(process.env.BENCH_RUNS ?? 2), 5));
const WITH_LAB = process.env.BENCH_LAB !== '0';
const STAY_S = 5;

/**
 * The tolerance, stated before measuring: time to relief and overload-seconds within 2 s or
 * 30 % of the lab's median, whichever is larger (the lab's own runs of the same strategy have
 * differed by up to 2 s: bench:traffic's repeated runs; each side counts in whole seconds, and
 * the alert reaches the lab's API 1.4-2.8 s after the overload where the simulator fires at 2 s);
 * moved shares within 10 percentage points (DSR moves flows by hash: repeated lab runs of one
 * DSR playbook moved 46 % and 55 %).
 */
const TOLERANCE = {
  seconds: { abs: 2, rel: 0.3, text: '±2 s or ±30 %, whichever is larger' },
  share: { abs: 0.1, text: '±10 percentage points' },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Measures {
  reliefS: number | null;
  overloadSeconds: number;
  movedShare: number;
  alertS: number | null;
  steps: string;
}

/** The measures on per-second series from the crowd's start: lhr's served and everyone's served. */
function measure(lhr: number[], all: number[], threshold: number): Omit<Measures, 'alertS' | 'steps'> {
  const firstOver = lhr.findIndex((x) => x > threshold);
  let reliefS: number | null = null;
  if (firstOver >= 0) {
    for (let k = firstOver + 1; k < lhr.length; k++) {
      if (lhr.slice(k, k + STAY_S).every((x) => x <= threshold)) {
        reliefS = k;
        break;
      }
    }
  }
  const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
  return {
    reliefS,
    overloadSeconds: lhr.filter((x) => x > threshold).length,
    movedShare: sum(all) > 0 ? 1 - sum(lhr) / sum(all) : 0,
  };
}

const model = await loadScenarioFile(SCENARIO);
const config: CatchmentConfig = await loadConfigFile(model.configPath);
const crowd = model.events.find((e) => e.kind === 'flash-crowd');
if (!crowd) throw new Error(`${SCENARIO} has no flash crowd`);
const wanted = (process.env.BENCH_STRATEGIES ?? 'dns-ttl60,dns-withdraw,full').split(',').map((s) => s.trim());
for (const s of wanted)
  if (!(STRATEGIES as readonly string[]).includes(s) || s === 'none' || s === 'scripted')
    throw new Error(`BENCH_STRATEGIES: ${s} is not a playbook strategy`);
const strategies = wanted as StrategyName[];
const capacity = Object.fromEntries((config.edges ?? []).map((e) => [e.name, e.capacity.rps]));
const threshold = model.alert.threshold * capacity[EDGE]!;
const baseRps = model.clients.reduce((n, c) => n + c.rps, 0);
const crowdRps = baseRps * crowd.factor;
const fixedShare = model.publicShare;
if (crowd.atS + WINDOW_S > model.durationS)
  throw new Error(`the window (${WINDOW_S} s from ${crowd.atS} s) is longer than the scenario`);

// The simulator's side: one run per strategy (deterministic).
const started = performance.now();
const sim = await simulationRunner()(
  { ...model, strategies },
  {
    onRun: (r) => process.stderr.write(`simulated ${r.strategy} (${Math.round(performance.now() - started)} ms)\n`),
  },
);
const simMeasures = new Map<string, Measures>();
for (const run of sim.runs) {
  const window = (a: Float32Array) => Array.from(a.slice(crowd.atS, crowd.atS + WINDOW_S));
  const lhr = window(run.edges.find((e) => e.name === EDGE)!.load);
  const all = lhr.map((_, k) => run.edges.reduce((n, e) => n + e.load[crowd.atS + k]!, 0));
  const alert = run.decisions.find((d) => d.text.startsWith(`alert ${model.alert.name} firing for ${EDGE}`));
  console.log(`  ${run.strategy}: lhr served per second (simulator): ${lhr.map((x) => x.toFixed(0)).join(' ')}`);
  simMeasures.set(run.strategy, {
    ...measure(lhr, all, threshold),
    alertS: alert ? alert.t - crowd.atS : null,
    steps: stepsText(run),
  });
}

function stepsText(run: RunResult): string {
  return run.steps
    .filter((s) => !s.text.includes('::/'))
    .map((s) => `${s.text.replace(`${EDGE}: `, '')} @${s.t - crowd!.atS}s`)
    .join(', ');
}

// The lab's side.
const labMeasures = new Map<string, Measures[]>();
const loadAverages: string[] = [];
if (WITH_LAB) {
  const lhrSpec = LAB_EDGES.find((e) => e.name === EDGE)!;
  const lab = await TrafficLab.start({
    api: { startApi, createToken },
    bpf: await buildBpf(),
    capacityRps: capacity,
    settings: { ...(config.settings as Record<string, unknown> | undefined) },
  });
  try {
    for (const [name, rps] of Object.entries(capacity))
      if (lab.capacity[name] !== rps) throw new Error(`the lab sizes ${name} at ${lab.capacity[name]}, not ${rps}`);
    for (let run = 0; run < RUNS; run++) {
      for (const strategy of strategies) {
        // The previous strategy's alert has resolved (its load is gone), so this one starts afresh.
        await until(
          'no EdgeOverloaded alert firing',
          async () =>
            (await lab.database.db.select().from(schema.signals)).every(
              (x) => x.name !== model.alert.name || x.status !== 'firing',
            ),
          60_000,
          200,
        ).catch((e) => console.error(`  ${(e as Error).message.split('\n')[0]}; going on`));
        loadAverages.push(loadavg()[0]!.toFixed(1));
        const cfg = strategyConfig(config, model, strategy);
        const service = (cfg.services ?? [])[0]!;
        const svc = await lab.call<Record<string, unknown>>('GET', `/v1/services/${service.name}`);
        delete svc.id;
        await lab.call('PUT', `/v1/services/${service.name}`, { ...svc, ttl: service.ttl });
        // An empty cache that keeps answers for the record's TTL (the lab's default is at most 1 s).
        await lab.net.restartResolver(service.ttl ?? 60);
        const names: string[] = [];
        for (const pb of cfg.playbooks ?? []) {
          const name = `cal-${strategy}-${run}-${pb.name}`;
          names.push(name);
          await addPlaybook(lab.database.db, {
            name,
            mode: pb.mode ?? 'auto',
            trigger: pb.trigger,
            steps: pb.steps,
          });
        }
        const base = {
          durationMs: (WINDOW_S + 60) * 1000,
          timeoutMs: 3000,
          longEvery: 10,
          longBytes: 1024 * 1024,
        };
        const dnsClients = Traffic.start(lab.net, 'gb', { rate: baseRps * (1 - fixedShare), ...base });
        const fixedClients = Traffic.start(lab.net, 'gb', {
          rate: baseRps * fixedShare,
          target: lhrSpec.address,
          ...base,
        });
        // The scenario's second 0 is the clients' first query (the cache fills then).
        await dnsClients.openedAtLeast(1, 20_000);
        const first = dnsClients.opened[0]!.t;
        const t0 = Math.max(first + crowd.atS * 1000, Date.now());
        await sleep(t0 - Date.now());
        dnsClients.setRate(crowdRps * (1 - fixedShare));
        fixedClients.setRate(crowdRps * fixedShare);
        await sleep(t0 + WINDOW_S * 1000 - Date.now());
        const [alert] = (await lab.database.db.select().from(schema.signals)).filter(
          (x) => x.name === model.alert.name && x.receivedAt.getTime() >= t0,
        );
        dnsClients.setRate(baseRps * (1 - fixedShare));
        fixedClients.setRate(baseRps * fixedShare);
        const runs = await lab.call<{ items: { id: number; state: string; playbook: string }[] }>('GET', '/v1/runs');
        const steps: string[] = [];
        for (const r of runs.items.filter((x) => names.includes(x.playbook))) {
          const full = await lab.call<{
            steps: { kind: string; stage: number; state: string; startedAt: string; params?: unknown }[];
          }>('GET', `/v1/runs/${r.id}`);
          steps.push(
            ...full.steps.map(
              (x) =>
                `${x.kind}${x.kind === 'dns-shift' ? `#${x.stage}` : ''}:${x.state} @${((Date.parse(x.startedAt) - t0) / 1000).toFixed(1)}s`,
            ),
          );
          if (r.state !== 'resolved' && r.state !== 'aborted')
            await lab
              .call('POST', `/v1/runs/${r.id}/abort`, { reason: 'bench: next strategy' })
              .catch((e) => console.error(String(e)));
        }
        await sleep(2000);
        dnsClients.stop();
        fixedClients.stop();
        const records: ConnectionRecord[] = [...(await dnsClients.done()), ...(await fixedClients.done())];
        const perSecond = (pick: (r: ConnectionRecord) => boolean) =>
          Array.from(
            { length: WINDOW_S },
            (_, k) => records.filter((r) => pick(r) && r.t >= t0 + k * 1000 && r.t < t0 + (k + 1) * 1000).length,
          );
        const lhr = perSecond((r) => r.edge === EDGE);
        const all = perSecond((r) => r.edge !== '');
        const m: Measures = {
          ...measure(lhr, all, threshold),
          alertS: alert ? (alert.receivedAt.getTime() - t0) / 1000 : null,
          steps: steps.join(', '),
        };
        const list = labMeasures.get(strategy) ?? [];
        list.push(m);
        labMeasures.set(strategy, list);
        const unanswered = records.filter((r) => r.edge === '' && r.t >= t0 && r.t < t0 + WINDOW_S * 1000).length;
        console.log(JSON.stringify({ strategy, run, ...m, unanswered, connections: records.length }));
        console.log(`  lhr served per second (clients' records): ${lhr.join(' ')}`);
        for (const name of names) await lab.call('DELETE', `/v1/playbooks/${name}`).catch(() => undefined);
        // Back to the steady state: every action gone, lhr answering gb again.
        const active = await lab.call<{ items: { id: number; active: boolean }[] }>('GET', '/v1/actions');
        for (const a of active.items.filter((x) => x.active))
          await lab.call('POST', `/v1/actions/${a.id}/revert`, { reason: 'bench reset' }).catch(() => undefined);
      }
    }
  } finally {
    await lab.stop();
  }
}

// Side by side.
const fmt = (x: number | null, digits = 0) => (x === null ? `> ${WINDOW_S}` : x.toFixed(digits));
const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
const rows: string[][] = [];
const verdicts: boolean[] = [];
for (const strategy of strategies) {
  const s = simMeasures.get(strategy)!;
  const lab = labMeasures.get(strategy) ?? [];
  const cmpSeconds = (pick: (m: Measures) => number | null, label: string) => {
    const labValues = lab.map(pick);
    const known = labValues.filter((x): x is number => x !== null);
    const simValue = pick(s);
    const med = known.length === labValues.length && known.length > 0 ? median(known) : null;
    const spread = known.length > 1 ? Math.max(...known) - Math.min(...known) : null;
    let within = '-';
    if (lab.length > 0) {
      if (med === null || simValue === null) within = med === simValue ? 'yes (neither relieved)' : 'no';
      else {
        const ok = Math.abs(med - simValue) <= Math.max(TOLERANCE.seconds.abs, TOLERANCE.seconds.rel * med);
        verdicts.push(ok);
        within = ok ? 'yes' : 'no';
      }
    }
    rows.push([
      strategy,
      label,
      labValues.map((x) => fmt(x)).join(' / ') || '-',
      med === null ? '-' : fmt(med, 1),
      spread === null ? '-' : fmt(spread),
      fmt(simValue),
      med !== null && simValue ? (med / simValue).toFixed(2) : '-',
      within,
    ]);
  };
  cmpSeconds((m) => m.reliefS, 'time to relief (s)');
  cmpSeconds((m) => m.overloadSeconds, `overload-seconds (of ${WINDOW_S})`);
  const shares = lab.map((m) => m.movedShare);
  const med = shares.length > 0 ? median(shares) : null;
  let within = '-';
  if (med !== null) {
    const ok = Math.abs(med - s.movedShare) <= TOLERANCE.share.abs;
    verdicts.push(ok);
    within = ok ? 'yes' : 'no';
  }
  rows.push([
    strategy,
    'moved share',
    shares.map(pct).join(' / ') || '-',
    med === null ? '-' : pct(med),
    shares.length > 1 ? `${((Math.max(...shares) - Math.min(...shares)) * 100).toFixed(0)} pp` : '-',
    pct(s.movedShare),
    med !== null && s.movedShare > 0 ? (med / s.movedShare).toFixed(2) : '-',
    within,
  ]);
  const alerts = lab.map((m) => m.alertS).filter((x): x is number => x !== null);
  rows.push([
    strategy,
    'alert at the API (s, not judged)',
    alerts.map((x) => x.toFixed(1)).join(' / ') || '-',
    alerts.length > 0 ? median(alerts).toFixed(1) : '-',
    alerts.length > 1 ? (Math.max(...alerts) - Math.min(...alerts)).toFixed(1) : '-',
    s.alertS === null ? '-' : String(s.alertS),
    '-',
    '-',
  ]);
}
const head = ['strategy', 'measure', 'lab runs', 'lab median', 'lab spread', 'simulator', 'lab / sim', 'within'];
console.log(
  `\nscenario ${SCENARIO.replace(`${process.cwd()}/`, '')}: threshold ${threshold} req/s, window ${WINDOW_S} s from the crowd, lab runs ${WITH_LAB ? RUNS : 0}${loadAverages.length ? `, load average ${loadAverages.join(' ')}` : ''}`,
);
console.log(`tolerance: seconds ${TOLERANCE.seconds.text}; shares ${TOLERANCE.share.text}\n`);
console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log('\nsteps (simulator):');
for (const strategy of strategies) console.log(`  ${strategy}: ${simMeasures.get(strategy)!.steps}`);
if (WITH_LAB) {
  console.log('steps (lab, first run):');
  for (const strategy of strategies) console.log(`  ${strategy}: ${labMeasures.get(strategy)?.[0]?.steps ?? '-'}`);
}
// The headline: overload-seconds of the full playbook against DNS only at TTL 60 s.
const head2 = (side: string, get: (s: string) => number | undefined) => {
  const full = get('full');
  const dns = get('dns-ttl60');
  if (full === undefined || dns === undefined) return;
  console.log(
    `headline (${side}): overload-seconds full ${full} vs DNS-only TTL 60 s ${dns} (${dns > 0 ? `${((1 - full / dns) * 100).toFixed(0)} % fewer` : '-'})`,
  );
};
head2('simulator', (s) => simMeasures.get(s)?.overloadSeconds);
if (WITH_LAB)
  head2('lab, median', (s) => {
    const l = labMeasures.get(s);
    return l && l.length > 0 ? median(l.map((m) => m.overloadSeconds)) : undefined;
  });
if (verdicts.length > 0)
  console.log(`\n${verdicts.filter(Boolean).length} of ${verdicts.length} judged measures within the tolerance`);
