// The soak of `pnpm bench:api` (issue 14): the API in a child process (bench/api-soak-server.ts)
// over PostgreSQL, a steady offered rate of mixed reads and writes (open loop) plus long-polling
// DNS servers, for CATCHMENT_SOAK_SECONDS (default 600). Every few seconds the child samples its
// RSS, heap used and event-loop delay (p50/p99); at the end the RSS slope over the first and the
// last half of the run tells whether memory levelled off. Every loop is bounded in time and count.

import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';

export interface SoakOptions {
  databaseUrl: string;
  admin: string;
  /** Agent tokens: one per long-polling DNS server (each its own distribution consumer). */
  agents: string[];
  seconds: number;
  /** Requests per second offered (long-polls apart). */
  rate: number;
  sampleMs: number;
  /** A folder for heap snapshots at the start, middle and end (finding a leak). */
  heapSnapshots?: string;
}

interface Sample {
  at: number;
  rss: number;
  heapUsed: number;
  external: number;
  eldP50: number;
  eldP99: number;
}

const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? Number.NaN : num / den;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
function call(url: string, method: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; text: string }>((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', () => resolve({ status: -1, text: '' }));
    req.setTimeout(60_000, () => req.destroy());
    req.end(payload);
  });
}

export async function soak(o: SoakOptions): Promise<void> {
  const child = fork(new URL('./api-soak-server.ts', import.meta.url).pathname, [], {
    env: {
      ...process.env,
      BENCH_DATABASE_URL: o.databaseUrl,
      BENCH_SAMPLE_MS: String(o.sampleMs),
      CATCHMENT_LOG_LEVEL: process.env.CATCHMENT_LOG_LEVEL ?? 'silent',
      ...(o.heapSnapshots ? { BENCH_HEAP_SNAPSHOTS: o.heapSnapshots } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const samples: Sample[] = [];
  const t0 = performance.now();
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the API did not start in 60 s')), 60_000);
    child.on('message', (m: { url?: string; sample?: Omit<Sample, 'at'>; wrote?: string }) => {
      if (m.url) {
        clearTimeout(timer);
        resolve(m.url);
      }
      if (m.sample) samples.push({ at: (performance.now() - t0) / 1000, ...m.sample });
      if (m.wrote) console.log(`soak: heap snapshot ${m.wrote}`);
    });
    child.once('exit', (code) => reject(new Error(`the API exited (${code})`)));
  });
  const statuses = new Map<number, number>();
  const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
  const until = performance.now() + o.seconds * 1000;
  try {
    const fra = JSON.parse((await call(`${base}/v1/edges/fra`, 'GET', o.admin)).text);
    // DNS servers long-polling for the next version, as deployed ones do.
    const pollers = o.agents.map(async (token) => {
      let since = 0;
      for (let i = 0; performance.now() < until && i < 100_000; i++) {
        const r = await call(`${base}/v1/snapshot?since=${since}&wait=30`, 'GET', token);
        count(r.status);
        if (r.status === 200) since = JSON.parse(r.text).version;
        else if (r.status !== 304) await sleep(1000);
      }
    });
    // The steady mix: 20 operations a cycle, 3 configuration writes and 4 reports among them.
    const ops: ((i: number) => Promise<{ status: number }>)[] = [
      (i) =>
        call(
          `${base}/v1/edges/lhr/${i % 2 ? 'undrain' : 'drain'}`,
          'POST',
          o.admin,
          { reason: 'soak' },
          {
            'idempotency-key': `soak-${i}`,
          },
        ),
      () => call(`${base}/v1/edges`, 'GET', o.admin),
      () => call(`${base}/v1/snapshot`, 'GET', o.admin),
      (i) =>
        call(`${base}/v1/reports`, 'POST', o.agents[0] as string, {
          consumer: `soak-dns-${i % 10}`,
          kind: 'dns',
          snapshotVersion: null,
          healthy: true,
          load: {},
        }),
      () => call(`${base}/v1/edges/fra`, 'GET', o.admin),
      () => call(`${base}/v1/audit?limit=50`, 'GET', o.admin),
      (i) =>
        call(`${base}/v1/reports`, 'POST', o.agents[0] as string, {
          consumer: 'fra',
          kind: 'edge',
          snapshotVersion: null,
          healthy: true,
          load: { rps: 1000 + (i % 500) },
        }),
      () => call(`${base}/v1/snapshot`, 'GET', o.admin),
      () => call(`${base}/v1/edges`, 'GET', o.admin),
      () => call(`${base}/metrics`, 'GET', o.admin),
      (i) => call(`${base}/v1/edges/fra`, 'PUT', o.admin, { ...fra, capacity: { rps: 100_000 + (i % 7) * 1000 } }),
      () => call(`${base}/v1/prefixes`, 'GET', o.admin),
      (i) =>
        call(`${base}/v1/reports`, 'POST', o.agents[0] as string, {
          consumer: `soak-dns-${i % 10}`,
          kind: 'dns',
          snapshotVersion: null,
          healthy: true,
        }),
      () => call(`${base}/v1/actions?limit=20`, 'GET', o.admin),
      () => call(`${base}/v1/audit?limit=50`, 'GET', o.admin),
      () => call(`${base}/v1/edges/fra`, 'GET', o.admin),
      (i) =>
        call(`${base}/v1/reports`, 'POST', o.agents[0] as string, {
          consumer: `soak-dns-${i % 10}`,
          kind: 'dns',
          snapshotVersion: null,
          healthy: i % 3 !== 0,
        }),
      () => call(`${base}/v1/consumers`, 'GET', o.admin),
      () => call(`${base}/healthz`, 'GET', o.admin),
      () => call(`${base}/v1/settings`, 'GET', o.admin),
    ];
    const started = performance.now();
    const inFlight = new Set<Promise<unknown>>();
    let dropped = 0;
    let mostInFlight = 0;
    let snapshotsTaken = 0;
    const total = Math.round(o.rate * o.seconds);
    for (let i = 0; i < total && performance.now() < until; i++) {
      const due = started + (i * 1000) / o.rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (
        o.heapSnapshots &&
        snapshotsTaken < 3 &&
        performance.now() - started >= (snapshotsTaken * o.seconds * 1000) / 2
      ) {
        child.send({ heapSnapshot: ['start', 'middle', 'end'][snapshotsTaken] });
        snapshotsTaken++;
      }
      // Open loop, but bounded: a server that falls behind gets no more than 500 outstanding.
      if (inFlight.size >= 500) {
        dropped++;
        continue;
      }
      const op = ops[i % ops.length] as (i: number) => Promise<{ status: number }>;
      const p: Promise<unknown> = op(Math.floor(i / ops.length)).then((r) => {
        count(r.status);
        inFlight.delete(p);
      });
      inFlight.add(p);
      mostInFlight = Math.max(mostInFlight, inFlight.size);
    }
    await Promise.all(inFlight);
    await Promise.all(pollers);
    if (o.heapSnapshots) {
      child.send({ heapSnapshot: 'end' });
      await sleep(20_000);
    }
    const sent = [...statuses.values()].reduce((a, b) => a + b, 0);
    const tally = [...statuses]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    console.log(
      `soak: ${o.seconds} s at ${o.rate} req/s offered + ${o.agents.length} long-polls: ${sent} answers (${tally}); at most ${mostInFlight} outstanding, ${dropped} not sent (500 outstanding: the API fell behind); -1 = no answer`,
    );
  } finally {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
    agent.destroy();
  }
  report(samples);
}

function report(samples: Sample[]): void {
  if (samples.length < 4) {
    console.log(`soak: only ${samples.length} samples, too short to judge`);
    return;
  }
  const mid = samples[Math.floor(samples.length / 2)] as Sample;
  const first = samples.filter((s) => s.at <= mid.at);
  const last = samples.filter((s) => s.at >= mid.at);
  const perMin = (xs: Sample[], f: (s: Sample) => number) => slope(xs.map((s) => ({ x: s.at / 60, y: f(s) / MB })));
  const rss1 = perMin(first, (s) => s.rss);
  const rss2 = perMin(last, (s) => s.rss);
  const heap1 = perMin(first, (s) => s.heapUsed);
  const heap2 = perMin(last, (s) => s.heapUsed);
  const f = (x: number) => x.toFixed(1);
  for (const s of samples) {
    console.log(
      `soak sample ${f(s.at)} s: rss ${f(s.rss / MB)} MB heap ${f(s.heapUsed / MB)} MB external ${f(s.external / MB)} MB ` +
        `event-loop delay p50 ${f(s.eldP50)} ms p99 ${f(s.eldP99)} ms`,
    );
  }
  const a = samples[0] as Sample;
  const z = samples[samples.length - 1] as Sample;
  // Levelled off: the last half grows at most a quarter as fast as the first (or under 1 MB/min),
  // or its peak stays within 5 % of the first half's (V8 gives memory back in steps, so a drop in
  // the middle makes the last half's slope steep while the peak has not moved).
  const peak = (xs: Sample[]) => Math.max(...xs.map((s) => s.rss));
  const slopeLevelled = rss2 <= Math.max(1, rss1 * 0.25);
  const peakLevelled = peak(last) <= peak(first) * 1.05;
  const floor = (xs: Sample[]) => Math.min(...xs.map((s) => s.heapUsed));
  console.log(
    `soak: rss ${f(a.rss / MB)} → ${f(mid.rss / MB)} → ${f(z.rss / MB)} MB (max ${f(Math.max(...samples.map((s) => s.rss)) / MB)}); ` +
      `slope first half ${f(rss1)} MB/min, last half ${f(rss2)} MB/min; heap ${f(a.heapUsed / MB)} → ${f(z.heapUsed / MB)} MB ` +
      `(slope ${f(heap1)} / ${f(heap2)} MB/min); event-loop delay median of samples p50 ${f(median(samples.map((s) => s.eldP50)))} ms ` +
      `p99 ${f(median(samples.map((s) => s.eldP99)))} ms; load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );
  console.log(
    `soak: peak rss first half ${f(peak(first) / MB)} MB, last half ${f(peak(last) / MB)} MB; ` +
      `heap floor (lowest sample) first half ${f(floor(first) / MB)} MB, last half ${f(floor(last) / MB)} MB`,
  );
  console.log(
    `soak: RSS levelled off: ${slopeLevelled || peakLevelled ? 'yes' : 'NO'} (slope test ${slopeLevelled ? 'yes' : 'no'}, ` +
      `peak test ${peakLevelled ? 'yes' : 'no'}; ${samples.length} samples)`,
  );
}
