// `pnpm bench:e2e`: time from an overload alert reaching the API (Alertmanager's version-4
// webhook, POST /v1/signals/alertmanager) to each effect on the real parts of
// packages/testkit/src/e2e: DNS answers changed on every DNS server (2 processes), fra's /24
// gone from the transit BIRD's RIB (netns lab), the DSR fraction in fra's XDP map. One
// playbook per effect, so each effect is its playbook's first step (later steps wait for
// their predecessors' verify windows by design). Each run then resolves and is undone.
// Comparison in the same session: the whole monitoring path (load exporter → Prometheus
// rule → Alertmanager → API) to the DNS effect, from the moment the exporter's load changes.
// Medians of BENCH_RUNS runs (default 5). Needs root (netns, BPF), like the e2e test.

import { createToken, startApi } from '../apps/api/src/index.ts';
import { queryServer } from '../apps/dns/src/verify.ts';
import { buildBpf, readPinnedDsrConfig } from '../apps/edge/src/xdp/index.ts';
import { birdCommand } from '../packages/routing/src/index.ts';
import {
  FRA_ANSWER,
  FRA_V4,
  latestRun,
  latestVersion,
  OVERLOADED,
  publishedAfter,
  World,
} from '../packages/testkit/src/e2e/index.ts';
import { until } from '../packages/testkit/src/wait.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const steady = { within: '30s' };
const PLAYBOOKS = [
  {
    name: 'bench-dns',
    alertname: 'BenchDns',
    steps: [{ kind: 'dns-shift' as const, schedule: [50], verify: steady, dwell: '1s' }],
  },
  {
    name: 'bench-withdraw',
    alertname: 'BenchWithdraw',
    steps: [{ kind: 'withdraw-unicast' as const, verify: steady, dwell: '1s' }],
  },
  {
    name: 'bench-dsr',
    alertname: 'BenchDsr',
    steps: [{ kind: 'dsr-shed' as const, fraction: 0.25, verify: steady, dwell: '1s' }],
  },
  // Triggered by the Prometheus rule (alertname EdgeOverloaded) for the comparison.
  {
    name: 'bench-monitoring',
    alertname: 'EdgeOverloaded',
    steps: [{ kind: 'dns-shift' as const, schedule: [50], verify: steady, dwell: '1s' }],
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds (at most 15 s); returns the time it first held. */
async function firstTime(check: () => Promise<boolean>): Promise<number> {
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    if (await check().catch(() => false)) return performance.now();
    await sleep(2);
  }
  throw new Error('effect not seen within 15 s');
}

async function main() {
  const w = await World.start(
    {
      playbooks: PLAYBOOKS.map((p) => ({
        name: p.name,
        mode: 'auto' as const,
        alertname: p.alertname,
        steps: p.steps,
      })),
    },
    { startApi, createToken, buildBpf, readPinnedDsrConfig },
  );
  try {
    const probes = w.probes;
    /** A DNS server answers some probe subnet with another edge than fra. */
    const shifted = async (port: number) => {
      const answers = await Promise.all(
        probes.map((s) =>
          queryServer({
            address: '127.0.0.1',
            port,
            name: 'www.example.net',
            clientIp: s.replace('/24', ''),
            timeoutMs: 500,
          }),
        ),
      );
      return answers.some((a) => a.addresses.length > 0 && !a.addresses.includes(FRA_ANSWER));
    };
    const unicastGone = async () => {
      const lines = await birdCommand(w.lab.transit.socket, `show route ${FRA_V4}`);
      return !lines.some((l) => l.text.includes(FRA_V4));
    };
    const xdpOn = async () => (await w.xdpConfig())?.enabled === 1;
    const effectsOf: Record<string, () => Promise<number>> = {
      'bench-dns': async () => Math.max(...(await Promise.all(w.dns.map((d) => firstTime(() => shifted(d.port)))))),
      'bench-withdraw': () => firstTime(unicastGone),
      'bench-dsr': () => firstTime(xdpOn),
    };

    const post = (alertname: string, status: 'firing' | 'resolved', startsAt: string, i: number) =>
      w.call('POST', '/v1/signals/alertmanager', {
        version: '4',
        groupKey: `{}:{alertname="${alertname}"}`,
        status,
        receiver: 'catchment',
        groupLabels: { alertname },
        commonLabels: { alertname, edge: OVERLOADED },
        commonAnnotations: {},
        externalURL: 'http://127.0.0.1:9093',
        alerts: [
          {
            status,
            labels: { alertname, edge: OVERLOADED, severity: 'page' },
            annotations: {},
            startsAt,
            endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
            generatorURL: '',
            fingerprint: `bench-${alertname}-${i}`,
          },
        ],
      });
    const settle = async (playbook: string) => {
      await until(
        `${playbook} resolved`,
        async () => (await latestRun(w, playbook))?.state === 'resolved',
        30_000,
        100,
      );
      await until(
        'DNS back to fra everywhere',
        async () => !(await Promise.all(w.dns.map((d) => shifted(d.port)))).some(Boolean),
        30_000,
        100,
      );
      await until('/24 back', async () => !(await unicastGone()), 30_000, 100);
      await until('DSR off', async () => !(await xdpOn()), 30_000, 100);
    };

    const results: Record<string, number[]> = {
      published: [],
      'bench-dns': [],
      'bench-withdraw': [],
      'bench-dsr': [],
      'bench-monitoring': [],
    };
    for (let i = 0; i < RUNS; i++) {
      for (const pb of PLAYBOOKS.slice(0, 3)) {
        // Not aligned with the controller's 1 s schedule.
        await sleep(150 + 173 * i);
        const startsAt = new Date().toISOString();
        const effect = effectsOf[pb.name] as () => Promise<number>;
        const v0 = await latestVersion(w);
        const wall0 = Date.now();
        const t0 = performance.now();
        const seen = effect();
        await post(pb.alertname, 'firing', startsAt, i);
        const t = await seen;
        results[pb.name]?.push(t - t0);
        // The controller's share: the first snapshot published after the alert.
        const published = await publishedAfter(w, v0);
        if (published) results.published?.push(published.getTime() - wall0);
        await post(pb.alertname, 'resolved', startsAt, i);
        await settle(pb.name);
      }
      // The comparison: the load crosses the rule's threshold at the exporter.
      await sleep(150 + 173 * i);
      const seen = effectsOf['bench-dns'] as () => Promise<number>;
      const t0 = performance.now();
      const done = seen();
      await w.setLoad(OVERLOADED, 92_000);
      results['bench-monitoring']?.push((await done) - t0);
      await w.setLoad(OVERLOADED, 40_000);
      await settle('bench-monitoring');
    }
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const m = Math.floor(s.length / 2);
      return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
    };
    const label: Record<string, string> = {
      published: 'alert at API → snapshot published (controller, all runs)',
      'bench-dns': 'alert at API → DNS answers changed on both DNS servers',
      'bench-withdraw': 'alert at API → /24 gone from the transit RIB',
      'bench-dsr': 'alert at API → DSR fraction in the XDP map',
      'bench-monitoring': 'load at exporter → Prometheus → Alertmanager → API → DNS changed',
    };
    console.log(`e2e: ${RUNS} runs each, DNS probes ${probes.length} subnets, 2 DNS servers, 2 controllers`);
    for (const [k, xs] of Object.entries(results)) {
      console.log(
        `${label[k]?.padEnd(68)} median ${median(xs).toFixed(0).padStart(5)} ms  min ${Math.min(...xs).toFixed(0)}  max ${Math.max(...xs).toFixed(0)}  [${xs.map((x) => x.toFixed(0)).join(' ')}]`,
      );
    }
  } finally {
    await w.stop();
  }
}

await main();
process.exit(0);
