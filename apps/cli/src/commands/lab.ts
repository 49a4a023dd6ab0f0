import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';

/** Where a running lab says who it is (its pid, namespace prefix, API): for `catchment lab down` and the operator. */
export const LAB_STATE = join(tmpdir(), 'catchment-lab.json');

interface LabState {
  pid: number;
  prefix: string;
  apiUrl: string;
  token: string;
  prometheusUrl: string;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new CliError(
      'LAB_NEEDS_ROOT',
      'catchment lab creates network namespaces, BGP daemons and XDP programs: run it as root (sudo catchment lab)',
    );
}

export function labCommands(program: Command): void {
  const lab = program
    .command('lab')
    .description(
      'an internet in a box (root only): client regions, two BIRD transits, four edges with XDP and HTTP servers, and Catchment; prints where traffic lands every second',
    )
    .option('--rate <n>', 'new connections per second per region (IPv4)', '10')
    .option('--rate6 <n>', 'new IPv6 connections per second per region (0: none)', '5')
    .option('--minutes <n>', 'stop by itself after this long', '60')
    .action(async (opts: { rate: string; rate6: string; minutes: string }) => {
      requireRoot();
      await runLab(Number(opts.rate), Number(opts.rate6), Number(opts.minutes));
    });
  lab
    .command('down')
    .description('stop a running lab and remove what it left (namespaces, processes, pinned BPF objects)')
    .action(async () => {
      requireRoot();
      await labDown();
    });
}

async function runLab(rate: number, rate6: number, minutes: number): Promise<void> {
  if (!Number.isFinite(rate) || rate <= 0 || rate > 200) throw new CliError('USAGE', '--rate must be in (0, 200]');
  if (!Number.isFinite(rate6) || rate6 < 0 || rate6 > 200) throw new CliError('USAGE', '--rate6 must be in [0, 200]');
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60)
    throw new CliError('USAGE', '--minutes must be in (0, 1440]');
  const [{ createToken, startApi }, { buildBpf }, { TrafficLab, Traffic, REGIONS }, { addPlaybook }] =
    await Promise.all([
      import('@catchment/api'),
      import('@catchment/edge'),
      import('@catchment/testkit/traffic-lab'),
      import('@catchment/testkit/world'),
    ]);
  process.stderr.write('catchment lab: bringing the lab up (about a minute)...\n');
  const lab = await TrafficLab.start({ api: { startApi, createToken }, bpf: await buildBpf() });
  const step = { verify: { within: '10s' }, dwell: '20s' };
  await addPlaybook(lab.database.db, {
    name: 'shed-overloaded-edge',
    mode: 'auto',
    trigger: { alert: { alertname: 'EdgeOverloaded' } },
    steps: [
      { kind: 'dns-shift', schedule: [25, 50], ...step },
      { kind: 'dsr-shed', fraction: 0.5, ...step },
      { kind: 'withdraw-unicast', ...step },
      { kind: 'communities', transit: 'transit-a', intents: ['lower-local-pref'], ...step },
    ],
  });
  const state: LabState = {
    pid: process.pid,
    prefix: lab.net.netns.prefix,
    apiUrl: lab.api.url,
    token: lab.token,
    prometheusUrl: lab.monitoring.prometheusUrl,
  };
  writeFileSync(LAB_STATE, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  const durationMs = minutes * 60_000;
  const drive = { durationMs, longEvery: 20, longBytes: 2 * 1024 * 1024 };
  const drivers = [
    ...REGIONS.map((r) => ({ label: r.name, traffic: Traffic.start(lab.net, r.name, { rate, ...drive }) })),
    // The same regions over IPv6 (their /48s, AAAA answers): `gb6` in the lines below.
    ...(rate6 > 0
      ? REGIONS.map((r) => ({
          label: `${r.name}6`,
          traffic: Traffic.start(lab.net, r.name, { rate: rate6, family: 6, ...drive }),
        }))
      : []),
  ];
  process.stdout.write(
    [
      `lab up: API ${state.apiUrl}`,
      `  export CATCHMENT_API_URL=${state.apiUrl} CATCHMENT_API_TOKEN=${state.token}`,
      '  then e.g. catchment shift fra 50 --reason lab; catchment withdraw 198.18.4.0/24 --reason lab; catchment dsr fra 0.5 --reason lab',
      '  (IPv6: catchment withdraw 2001:db8:104::/48 --reason lab moves gb6)',
      `  Prometheus ${state.prometheusUrl}; stop with Ctrl-C or catchment lab down`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const seen = drivers.map(() => 0);
  const timer = setInterval(() => {
    const parts: string[] = [];
    drivers.forEach(({ label, traffic: d }, i) => {
      const fresh = d.records.slice(seen[i]);
      seen[i] = d.records.length;
      const counts: Record<string, number> = {};
      for (const rec of fresh) {
        const key = rec.outcome === 'completed' ? rec.edge : rec.outcome;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      const text = Object.entries(counts)
        .sort()
        .map(([k, n]) => `${k} ${n}`)
        .join(' ');
      parts.push(`${label}: ${text || '-'}`);
    });
    process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${parts.join('  |  ')}\n`);
  }, 1000);
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    process.stderr.write('catchment lab: tearing down...\n');
    for (const d of drivers) d.traffic.kill();
    await lab.stop();
    rmSync(LAB_STATE, { force: true });
    process.stderr.write('catchment lab: down\n');
    process.exit(0);
  };
  // The testkit's handlers end a test process at once (their clean-up runs on exit); the lab
  // tears down in order first, and those clean-ups still run when it exits.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.once(signal, () => void stop());
  }
  await Promise.all(drivers.map((d) => d.traffic.done(durationMs + 60_000)));
  await stop();
}

/** Stops the lab's process (SIGTERM: it tears itself down), then removes anything a killed lab left. */
async function labDown(): Promise<void> {
  let state: LabState | undefined;
  try {
    state = JSON.parse(readFileSync(LAB_STATE, 'utf8')) as LabState;
  } catch {
    process.stdout.write('no lab running (no state file); removing leftovers of killed labs\n');
  }
  if (state) {
    try {
      process.kill(state.pid, 'SIGTERM');
      for (let i = 0; i < 600; i++) {
        process.kill(state.pid, 0);
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch {
      // ended
    }
  }
  // The lab's namespaces and pins carry its prefix (xdpt<pid>-); only dead labs' are removed.
  const { uniquePrefix } = await import('@catchment/testkit/netns');
  uniquePrefix('t');
  if (state) {
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n.startsWith(state.prefix));
    for (const ns of left) execFileSync('ip', ['netns', 'del', ns]);
  }
  rmSync(LAB_STATE, { force: true });
  process.stdout.write('lab down: no namespace, process or pinned BPF object left\n');
}
