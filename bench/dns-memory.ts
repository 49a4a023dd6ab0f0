/**
 * `pnpm bench:dns-memory`: the DNS server's memory and table build times with a full-size City
 * database (the synthetic one of bench/full-city-db.ts, generated once into .cache/), answering
 * in the main thread and with 1 and 2 worker threads; gdnsd's RSS with the same database in
 * the same run. No load is sent: memory does not depend on the query rate.
 * Bounded: every step has a deadline. Options: BENCH_RUNS (3), BENCH_WORKERS ("0,1,2"),
 * BENCH_SWAPS (50: snapshot swaps of the leak check, with the largest worker count).
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoBody } from '../packages/testkit/src/geo-fixtures.ts';
import { freePort } from '../packages/testkit/src/index.ts';
import { fullCityDb } from './full-city-db.ts';
import { writeGdnsdConfig } from './gdnsd.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WORKERS = (process.env.BENCH_WORKERS ?? '0,1,2').split(',').map(Number);
const SWAPS = Number(process.env.BENCH_SWAPS ?? 50);
const STEP_MS = 180_000;

const dir = mkdtempSync(join(tmpdir(), 'catchment-bench-dns-memory-'));
const children = new Set<{ kill(signal: NodeJS.Signals): boolean }>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/** The A answer for a client in `subnet` (ECS), or '' (a check that the tables answer). */
function answer(port: number, subnet: string): string {
  const r = spawnSync('dig', [
    '@127.0.0.1',
    '-p',
    String(port),
    '+short',
    '+time=2',
    '+tries=1',
    `+subnet=${subnet}`,
    'www.example.net',
  ]);
  return r.stdout.toString().trim();
}

type Reply = Record<string, number>;

/** One server process (bench/dns-memory-serve.ts) driven line by line. */
class ServerProcess {
  readonly port: number;
  readonly proc: ChildProcessWithoutNullStreams;
  #lines: string[] = [];
  #wake: (() => void) | undefined;

  constructor(db: string, workers: number, port: number, bodyFile: string) {
    this.port = port;
    this.proc = spawn(
      process.execPath,
      ['--expose-gc', join(import.meta.dirname, 'dns-memory-serve.ts'), db, String(workers), String(port), bodyFile],
      { env: { ...process.env, CATCHMENT_LOG_LEVEL: 'warn' } },
    );
    children.add(this.proc);
    this.proc.stderr.pipe(process.stderr);
    let buf = '';
    this.proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      this.#lines.push(...parts.filter((l) => l.startsWith('{')));
      this.#wake?.();
    });
  }

  async send(cmd: string): Promise<Reply> {
    this.proc.stdin.write(`${cmd}\n`);
    const deadline = Date.now() + STEP_MS;
    while (this.#lines.length === 0) {
      if (this.proc.exitCode !== null || Date.now() > deadline) throw new Error(`server gave no answer to "${cmd}"`);
      await new Promise<void>((r) => {
        this.#wake = r;
        setTimeout(r, 1000);
      });
    }
    return JSON.parse(this.#lines.shift()!) as Reply;
  }

  async quit(): Promise<void> {
    await this.send('quit').catch(() => undefined);
    this.proc.kill('SIGKILL');
    children.delete(this.proc);
  }
}

const db = fullCityDb();
console.log(`database: ${db}`);
const bodyFile = join(dir, 'body.json');
writeFileSync(bodyFile, JSON.stringify(demoBody()));

interface Row {
  workers: number;
  loadMs: number;
  swapMs: number;
  reloadMs: number;
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  rssAfterSwaps: number;
}
const rows: Row[] = [];
for (let run = 1; run <= RUNS; run++) {
  for (const workers of WORKERS) {
    const s = new ServerProcess(db, workers, await freePort(), bodyFile);
    try {
      const load = await s.send('load');
      const ans = answer(s.port, '81.2.69.0/24');
      if (!/^\d+\.\d+\.\d+\.\d+$/m.test(ans)) throw new Error(`no answer from the server (${ans})`);
      const mem = await s.send('mem');
      const swap = await s.send('swap 5');
      const afterSwaps = await s.send('mem');
      const reload = await s.send('reload');
      const row: Row = {
        workers,
        loadMs: load.loadMs!,
        swapMs: swap.swapMs!,
        reloadMs: reload.reloadMs!,
        rss: mem.rss!,
        heapUsed: mem.heapUsed!,
        arrayBuffers: mem.arrayBuffers!,
        rssAfterSwaps: afterSwaps.rss!,
      };
      rows.push(row);
      console.log(`run ${run}, ${workers} workers: ${JSON.stringify(row)}`);
    } finally {
      await s.quit();
    }
  }
}

// Leak check: RSS after many swaps, against RSS after a few.
const maxWorkers = Math.max(...WORKERS);
const leak = new ServerProcess(db, maxWorkers, await freePort(), bodyFile);
let leakRow: { after5: number; afterMany: number; settled: number };
try {
  await leak.send('load');
  await leak.send('swap 5');
  const after5 = (await leak.send('mem')).rss!;
  await leak.send(`swap ${SWAPS}`);
  const afterMany = (await leak.send('mem')).rss!;
  await new Promise((r) => setTimeout(r, 5000));
  const settled = (await leak.send('mem')).rss!;
  leakRow = { after5, afterMany, settled };
  console.log(`leak check, ${maxWorkers} workers: ${JSON.stringify(leakRow)}`);
} finally {
  await leak.quit();
}

// gdnsd with the same database: RSS once it answers, and how long loading took.
let gdnsd: { rss: number; startMs: number } | undefined;
if (spawnSync('which', ['gdnsd']).status === 0) {
  const port = await freePort();
  const conf = writeGdnsdConfig(dir, port, db, demoBody().edges);
  const started = performance.now();
  const p = spawn('gdnsd', ['-c', conf, 'start'], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(p);
  let err = '';
  p.stderr.on('data', (d) => {
    err += d;
  });
  const deadline = Date.now() + STEP_MS;
  while (!/^\d+\.\d+\.\d+\.\d+$/m.test(answer(port, '81.2.69.0/24'))) {
    if (p.exitCode !== null || Date.now() > deadline) throw new Error(`gdnsd did not answer:\n${err}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  gdnsd = { rss: rssMb(p.pid!), startMs: Math.round(performance.now() - started) };
  p.kill('SIGTERM');
  children.delete(p);
} else {
  console.log('gdnsd not installed: no comparison');
}

const base = median(rows.filter((r) => r.workers === 0).map((r) => r.rss));
console.log(
  `\nmedians of ${RUNS} runs; RSS in MB; per worker = (RSS - RSS with 0 workers) / workers; ` +
    'heap and array buffers: main thread, after a GC',
);
console.log(
  '\n| workers | load (build + share + zones) ms | swap ms | full rebuild (reload) ms | RSS | per worker | heap used | array buffers | RSS after 5 swaps |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const workers of WORKERS) {
  const rs = rows.filter((r) => r.workers === workers);
  const m = (f: (r: Row) => number) => median(rs.map(f));
  const rss = m((r) => r.rss);
  const perWorker = workers > 0 && WORKERS.includes(0) ? String(Math.round((rss - base) / workers)) : '-';
  console.log(
    `| ${workers} | ${m((r) => r.loadMs)} | ${m((r) => r.swapMs)} | ${m((r) => r.reloadMs)} | ${rss} | ${perWorker} | ` +
      `${m((r) => r.heapUsed)} | ${m((r) => r.arrayBuffers)} | ${m((r) => r.rssAfterSwaps)} |`,
  );
}
console.log(
  `\nRSS with ${maxWorkers} workers after 5 swaps ${leakRow.after5} MB, after ${SWAPS} more ${leakRow.afterMany} MB, ` +
    `5 s later ${leakRow.settled} MB`,
);
if (gdnsd) console.log(`gdnsd, same database: RSS ${gdnsd.rss} MB, start to first answer ${gdnsd.startMs} ms`);
process.exit(0);
