/**
 * `pnpm bench:dns`: Catchment's DNS server against gdnsd (geoip plugin, equivalent config) in
 * the same run, on loopback, with dnsperf replaying raw queries (`-B`) whose ECS subnets vary
 * over many countries. Server pinned to one core, dnsperf to the other (taskset). Reports
 * qps, qps per server core (qps / server CPU), latency percentiles at half the peak rate, RSS.
 * Catchment also serves the demo zone signed (DNSSEC, KSK+ZSK, ECDSA P-256) to the same queries
 * with DO set: signed answers must cost no more than unsigned ones (signatures are precomputed).
 * Bounded: every dnsperf run is `-l` seconds. Options: BENCH_SECONDS (10), BENCH_RUNS (3).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealSnapshot } from '../packages/core/src/index.ts';
import { countryCentroid, countryContinent } from '../packages/geo/src/countries.ts';
import { GeoDb } from '../packages/geo/src/index.ts';
import { demoBody } from '../packages/testkit/src/geo-fixtures.ts';
import { freePort, TEST_KEK, testZoneKeys } from '../packages/testkit/src/index.ts';
import { cityRecord, writeMmdb } from '../packages/testkit/src/mmdb-writer.ts';
import { writeGdnsdConfig } from './gdnsd.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SERVER_CPU = process.env.BENCH_SERVER_CPU ?? '1';
const CLIENT_CPU = process.env.BENCH_CLIENT_CPU ?? '0';
const root = join(import.meta.dirname, '..');

for (const tool of ['dnsperf', 'gdnsd', 'taskset', 'dig']) {
  if (spawnSync('which', [tool]).status !== 0) {
    console.error(`bench:dns needs ${tool} (scripts/test-deps.sh installs dnsperf and gdnsd)`);
    process.exit(2);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'catchment-bench-dns-'));
const procs: ChildProcess[] = [];
const cleanup = () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

// 1. A City-layout database both servers read: networks of the embedded country database,
//    every one with its country's continent and centroid (gdnsd reads only MaxMind's layout).
console.log('building the GeoIP database (City layout, from the embedded country database)...');
const flat = new GeoDb({ watch: false });
const networks: { cidr: string; country: string }[] = [];
let seen = 0;
flat.forEachLocation(4, (bytes, length, geo) => {
  if (seen++ % 3 !== 0) return;
  networks.push({ cidr: `${Array.from(bytes).join('.')}/${length}`, country: geo.country });
});
flat.close();
const cityFile = join(dir, 'city.mmdb');
writeFileSync(
  cityFile,
  writeMmdb(
    networks.flatMap((n) => {
      const c = countryCentroid(n.country);
      const cont = countryContinent(n.country);
      return c && cont ? [{ cidr: n.cidr, data: cityRecord(n.country, cont, c.lat, c.lon) }] : [];
    }),
    { databaseType: 'GeoIP2-City' },
  ),
);
const countries = new Set(networks.map((n) => n.country));
console.log(`  ${networks.length} IPv4 networks, ${countries.size} countries`);

// 2. Queries: www.example.net A, each with the ECS /24 of a random address in a random network.
let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};
const queries: Buffer[] = [];
const signedQueries: Buffer[] = [];
for (let i = 0; i < 200_000; i++) {
  const n = networks[Math.floor(rand() * networks.length)]!;
  const [addr, len] = n.cidr.split('/') as [string, string];
  const base = addr.split('.').map(Number);
  const span = 2 ** (32 - Number(len));
  const v = (((base[0]! << 24) | (base[1]! << 16) | (base[2]! << 8) | base[3]!) >>> 0) + Math.floor(rand() * span);
  const name = Buffer.from([3, ...Buffer.from('www'), 7, ...Buffer.from('example'), 3, ...Buffer.from('net'), 0]);
  const h = Buffer.alloc(12);
  h.writeUInt16BE(i & 0xffff, 0);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(1, 10);
  const q = Buffer.from([0, 1, 0, 1]);
  const ecs = Buffer.from([0, 8, 0, 7, 0, 1, 24, 0, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff]);
  const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, ecs.length]);
  const msg = Buffer.concat([h, name, q, opt, ecs]);
  const len2 = Buffer.alloc(2);
  len2.writeUInt16BE(msg.length);
  queries.push(len2, msg);
  // The same query with DO (the OPT TTL's flags, 0x8000).
  const withDo = Buffer.from(msg);
  withDo[12 + name.length + 4 + 7] = 0x80;
  signedQueries.push(len2, withDo);
}
const queryFile = join(dir, 'queries.bin');
writeFileSync(queryFile, Buffer.concat(queries));
const signedQueryFile = join(dir, 'queries-do.bin');
writeFileSync(signedQueryFile, Buffer.concat(signedQueries));

// 3. The servers.
const edges = demoBody().edges;
const waitForAnswer = async (port: number) => {
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+short', '+time=1', '+tries=1', 'www.example.net']);
    if (r.status === 0 && /\d+\.\d+\.\d+\.\d+/.test(r.stdout.toString())) return;
    await new Promise((r2) => setTimeout(r2, 200));
  }
  throw new Error(`server on ${port} never answered`);
};

interface Server {
  pid: number;
  port: number;
  /** The dnsperf query file for this server. */
  file: string;
}

async function startCatchment(udpIo: 'batch' | 'dgram', signed = false): Promise<Server> {
  const port = await freePort();
  const snap = join(dir, `snapshot-${port}.json`);
  const body = demoBody();
  if (signed) body.zones[0]!.dnssec = testZoneKeys('example.net').dnssec;
  writeFileSync(snap, JSON.stringify(sealSnapshot(1, body)));
  const opts = {
    listen: [{ address: '127.0.0.1', port }],
    workers: Number(process.env.BENCH_WORKERS ?? 0),
    geo: { city: cityFile, watch: false },
    udpIo,
  };
  const p = spawn(
    'taskset',
    ['-c', SERVER_CPU, process.execPath, join(root, 'apps/dns/test/serve.ts'), JSON.stringify(opts), snap],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, CATCHMENT_LOG_LEVEL: 'warn', CATCHMENT_DNSSEC_KEK: TEST_KEK.toString('hex') },
    },
  );
  procs.push(p);
  await waitForAnswer(port);
  if (signed) {
    const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+dnssec', '+time=1', 'www.example.net']);
    if (!/RRSIG/.test(r.stdout.toString())) throw new Error('the signed server does not sign');
  }
  return { pid: p.pid!, port, file: signed ? signedQueryFile : queryFile };
}

async function startGdnsd(): Promise<Server> {
  const port = await freePort();
  const conf = writeGdnsdConfig(dir, port, cityFile, edges);
  const p = spawn('taskset', ['-c', SERVER_CPU, 'gdnsd', '-c', conf, 'start'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d) => {
    err += d;
  });
  procs.push(p);
  await waitForAnswer(port).catch((e) => {
    throw new Error(`${(e as Error).message}\n${err}`);
  });
  return { pid: p.pid!, port, file: queryFile };
}

/** CPU seconds of a process (all threads). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/** The real server's pid under taskset (taskset execs, so it is the same pid). */
function dnsperf(s: Server, extra: string[]): string {
  const r = spawnSync(
    'taskset',
    [
      '-c',
      CLIENT_CPU,
      'dnsperf',
      '-s',
      '127.0.0.1',
      '-p',
      String(s.port),
      '-d',
      s.file,
      '-B',
      '-l',
      String(SECONDS),
      ...extra,
    ],
    { maxBuffer: 1 << 30 },
  );
  return r.stdout.toString();
}

interface Peak {
  qps: number;
  perCore: number;
  lost: number;
  avgMs: number;
}

function peak(s: Server): Peak {
  const c0 = cpuSeconds(s.pid);
  const out = dnsperf(s, ['-q', '300', '-c', '8', '-t', '1']);
  const cpu = cpuSeconds(s.pid) - c0;
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const completed = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const lost = Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const avgMs = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(out)?.[1] ?? 0) * 1000;
  return { qps, perCore: cpu > 0 ? completed / cpu : 0, lost, avgMs };
}

function latencies(s: Server, qps: number): { p50: number; p99: number; p999: number } {
  const out = dnsperf(s, ['-Q', String(Math.round(qps)), '-q', '300', '-t', '1', '-v']);
  const values = [...out.matchAll(/^> \S+ .* ([\d.]+)$/gm)].map((m) => Number(m[1]) * 1000).sort((a, b) => a - b);
  const pct = (p: number) => values[Math.min(values.length - 1, Math.floor(values.length * p))] ?? 0;
  return { p50: pct(0.5), p99: pct(0.99), p999: pct(0.999) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

// Catchment twice: batched UDP I/O (the default) and Node's dgram (the fallback), to show what
// the system calls cost.
const servers = {
  catchment: await startCatchment('batch'),
  'catchment-signed-do': await startCatchment('batch', true),
  'catchment-dgram': await startCatchment('dgram'),
  gdnsd: await startGdnsd(),
};
const results: Record<string, Peak[]> = Object.fromEntries(Object.keys(servers).map((k) => [k, []]));
for (let run = 0; run < RUNS; run++) {
  for (const [name, s] of Object.entries(servers)) {
    const p = peak(s);
    results[name]!.push(p);
    console.log(
      `run ${run + 1} ${name}: ${Math.round(p.qps)} qps, ${Math.round(p.perCore)} qps/core, lost ${p.lost}, avg ${p.avgMs.toFixed(3)} ms`,
    );
  }
}
const summary: Record<string, { qps: number; perCore: number; lat: ReturnType<typeof latencies>; rss: number }> = {};
for (const [name, s] of Object.entries(servers)) {
  const qps = median(results[name]!.map((r) => r.qps));
  const perCore = median(results[name]!.map((r) => r.perCore));
  const lat = latencies(s, qps / 2);
  summary[name] = { qps, perCore, lat, rss: rssMb(s.pid) };
}
const c = summary.catchment!;
const g = summary.gdnsd!;
console.log('\n| server | qps (median) | qps per server core | p50 / p99 / p99.9 ms at half peak | RSS MB |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name, s] of Object.entries(summary)) {
  console.log(
    `| ${name} | ${Math.round(s.qps)} | ${Math.round(s.perCore)} | ${s.lat.p50.toFixed(3)} / ${s.lat.p99.toFixed(3)} / ${s.lat.p999.toFixed(3)} | ${s.rss} |`,
  );
}
const d = summary['catchment-dgram']!;
console.log(
  `\nCatchment / gdnsd: ${(c.qps / g.qps).toFixed(2)} x qps, ${(c.perCore / g.perCore).toFixed(2)} x qps per core`,
);
console.log(
  `Catchment with dgram / gdnsd: ${(d.qps / g.qps).toFixed(2)} x qps, ${(d.perCore / g.perCore).toFixed(2)} x qps per core`,
);
const sg = summary['catchment-signed-do']!;
console.log(
  `Catchment signed (DO) / unsigned: ${(sg.qps / c.qps).toFixed(2)} x qps, ${(sg.perCore / c.perCore).toFixed(2)} x qps per core`,
);
process.exit(0);
