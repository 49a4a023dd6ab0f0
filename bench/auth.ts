// `pnpm bench:auth [--runs N] [--seconds S] [--at COMMIT]...`: the cost of authentication under
// hostile load (issue 14, defect 8). The API runs in a child process (bench/auth-server.ts, PGlite
// in memory) so its CPU time is read from /proc alone; the load comes from this process, at a fixed
// offered rate (open loop: a request every 1/rate s whatever the answers), every loop bounded:
//  - first use: 50 concurrent requests with one token never used before; time until all answered;
//  - one prefix: wrong secrets (each another) for one valid token prefix from one address, 22/s;
//  - flood: distinct wrong secrets for 50 valid prefixes from 50 loopback addresses, 60 requests/s, with a
//    verified token's GET /v1/edges every 100 ms meanwhile (its latency).
// CPU = the API process's user+system seconds per wall second over the sending window, and in all
// (until the API is idle again: queued checks go on after the window). `--at`
// runs the same against another commit's tree (extracted with git archive into /tmp, sharing this
// worktree's node_modules) in the same session, interleaved run by run.

import { execFileSync, fork } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    at: { type: 'string', multiple: true, default: [] },
  },
});
const RUNS = Math.min(20, Math.max(1, Number(values.runs)));
const SECONDS = Math.min(120, Math.max(1, Number(values.seconds)));
const here = new URL('..', import.meta.url).pathname;
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] ?? Number.NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** user + system CPU seconds of a process, all its threads (scrypt runs on libuv's pool). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** Another commit's source tree in /tmp, with this worktree's installed packages. */
function treeAt(commit: string): string {
  const dir = mkdtempSync(`/tmp/catchment-bench-auth-${commit.slice(0, 8)}-`);
  execFileSync('sh', ['-c', `git -C "${here}" archive "${commit}" | tar -x -C "${dir}"`]);
  symlinkSync(join(here, 'node_modules'), join(dir, 'node_modules'));
  for (const group of ['apps', 'packages']) {
    for (const name of readdirSync(join(dir, group))) {
      const from = join(here, group, name, 'node_modules');
      // Symbolic links only (relative, so the workspace ones point into the extracted tree).
      if (existsSync(from))
        cpSync(from, join(dir, group, name, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    }
  }
  return dir;
}

interface Server {
  url: string;
  pid: number;
  tokens: { admin: string; guessed: string; fresh: string; flood: string[] };
  stop(): Promise<void>;
}

async function startServer(tree: string | undefined): Promise<Server> {
  const child = fork(join(here, 'bench/auth-server.ts'), [], {
    env: { ...process.env, ...(tree ? { BENCH_TREE: tree } : {}), CATCHMENT_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ url: string; tokens: Server['tokens'] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the API did not start in 120 s')), 120_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as never);
    });
    child.once('exit', (code) => reject(new Error(`the API exited (${code})`)));
  });
  return {
    ...ready,
    pid: child.pid as number,
    stop: () =>
      new Promise((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

const agents = new Map<string, Agent>();
function get(url: string, token: string, localAddress = '127.0.0.1'): Promise<number> {
  let agent = agents.get(localAddress);
  if (!agent) {
    agent = new Agent({ keepAlive: true, localAddress, maxSockets: 64 });
    agents.set(localAddress, agent);
  }
  return new Promise((resolve) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(-1));
    req.setTimeout(30_000, () => req.destroy());
    req.end();
  });
}

/** A wrong secret for the token's prefix, distinct for each `i` (so no two checks are shared). */
const wrong = (token: string, i: number) =>
  `${token.slice(0, token.indexOf('.'))}.${`w${i.toString(36)}`.padEnd(43, 'A')}`;
const tally = (xs: number[]) => {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return [...m]
    .sort((a, b) => a[0] - b[0])
    .map(([s, n]) => `${s}×${n}`)
    .join(' ');
};

/** Open loop: `rate` requests a second for `seconds`, whatever the answers; CPU over the window. */
async function offered(s: Server, rate: number, next: (i: number) => Promise<number>) {
  const pending: Promise<number>[] = [];
  const cpu0 = cpuSeconds(s.pid);
  const t0 = performance.now();
  const count = Math.round(rate * SECONDS);
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(next(i));
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = (cpuSeconds(s.pid) - cpu0) / wall;
  const statuses = await Promise.all(pending);
  // The whole cost: checks queued in the window go on after it (and after a client gave up),
  // so CPU is also read until the API is idle again (under 0.05 s in a second, at most 120 s).
  let last = cpuSeconds(s.pid);
  for (let i = 0; i < 120; i++) {
    await sleep(1000);
    const now = cpuSeconds(s.pid);
    if (now - last < 0.05) break;
    last = now;
  }
  const total = cpuSeconds(s.pid) - cpu0;
  return { cpu, total, statuses };
}

async function once(tree: string | undefined) {
  const s = await startServer(tree);
  try {
    const firstUse0 = performance.now();
    const first = await Promise.all(Array.from({ length: 50 }, () => get(`${s.url}/v1/snapshot`, s.tokens.fresh)));
    const firstUseMs = performance.now() - firstUse0;
    await get(`${s.url}/v1/edges`, s.tokens.admin); // the probe's token, verified before the flood
    await sleep(1000);

    const one = await offered(s, 22, (i) => get(`${s.url}/v1/edges`, wrong(s.tokens.guessed, i), '127.0.3.1'));
    await sleep(1000);

    const floods = s.tokens.flood;
    const probe: number[] = [];
    let flooding = true;
    const prober = (async () => {
      for (let i = 0; flooding && i < 10 * SECONDS + 100; i++) {
        const t = performance.now();
        const status = await get(`${s.url}/v1/edges`, s.tokens.admin, '127.0.4.1');
        if (status === 200) probe.push(performance.now() - t);
        await sleep(100);
      }
    })();
    const flood = await offered(s, 60, (i) =>
      get(`${s.url}/v1/edges`, wrong(floods[i % floods.length] as string, i), `127.0.2.${(i % floods.length) + 1}`),
    );
    flooding = false;
    await prober;
    return {
      firstUseMs,
      firstStatuses: tally(first),
      oneCpu: one.cpu,
      oneTotal: one.total,
      oneStatuses: tally(one.statuses),
      floodCpu: flood.cpu,
      floodTotal: flood.total,
      floodStatuses: tally(flood.statuses),
      probeMedian: median(probe),
      probeP95: p95(probe),
      probes: probe.length,
    };
  } finally {
    await s.stop();
  }
}

const variants: { name: string; tree: string | undefined }[] = [
  ...(values.at as string[]).map((c) => ({ name: c, tree: treeAt(c) })),
  { name: 'this tree', tree: undefined },
];
const results = new Map<string, Awaited<ReturnType<typeof once>>[]>(variants.map((v) => [v.name, []]));
console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; ${RUNS} runs, ${SECONDS} s windows`,
);
try {
  for (let run = 0; run < RUNS; run++) {
    for (const v of variants) {
      const r = await once(v.tree);
      results.get(v.name)?.push(r);
      console.log(
        `[${v.name}] run ${run + 1}: first use 50 concurrent ${r.firstUseMs.toFixed(0)} ms (${r.firstStatuses}); ` +
          `one prefix 22/s CPU ${r.oneCpu.toFixed(2)} s/s, ${r.oneTotal.toFixed(1)} s in all (${r.oneStatuses}); ` +
          `flood 50 prefixes 60/s CPU ${r.floodCpu.toFixed(2)} s/s, ${r.floodTotal.toFixed(1)} s in all (${r.floodStatuses}); ` +
          `verified token during flood median ${r.probeMedian.toFixed(1)} ms p95 ${r.probeP95.toFixed(1)} ms (${r.probes})`,
      );
    }
  }
} finally {
  for (const v of variants) if (v.tree) rmSync(v.tree, { recursive: true, force: true });
  for (const a of agents.values()) a.destroy();
}
console.log(
  `load average at end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
for (const [name, rs] of results) {
  const m = (f: (r: (typeof rs)[number]) => number) => median(rs.map(f));
  console.log(
    `median [${name}]: first use ${m((r) => r.firstUseMs).toFixed(0)} ms; one prefix CPU ${m((r) => r.oneCpu).toFixed(2)} s/s, ` +
      `${m((r) => r.oneTotal).toFixed(1)} s in all; flood CPU ${m((r) => r.floodCpu).toFixed(2)} s/s, ${m((r) => r.floodTotal).toFixed(1)} s in all; verified token during flood median ${m((r) => r.probeMedian).toFixed(1)} ms ` +
      `p95 ${m((r) => r.probeP95).toFixed(1)} ms`,
  );
}
