import { Resolver } from 'node:dns/promises';
import http from 'node:http';
import { createInterface } from 'node:readline';

/**
 * The traffic driver's client, run inside one client region's namespace (nsenter): opens
 * HTTP connections at a bounded rate, each from the next of the region's client blocks,
 * resolving the service through the region's recursive resolver from that block's address
 * (so the resolver's ECS carries the block), or connecting to a fixed `target`. One JSON
 * line per finished connection on stdout: which edge served it, when, and how it ended.
 * A line with `open: true` when a connection's response began (the edge is known then).
 * stdin takes `{"rate": n}` lines (change the offered rate) and `stop`.
 *   node driver-client.ts '<json options>'
 */
interface Options {
  region: string;
  resolver: string;
  /** 6: AAAA answers (the blocks and the resolver are IPv6 then). */
  family: 4 | 6;
  name: string;
  target?: string;
  blocks: string[];
  rate: number;
  durationMs: number;
  maxConnections: number;
  /** Every n-th connection is a long download (0: none). */
  longEvery: number;
  longBytes: number;
  longChunkMs: number;
  timeoutMs: number;
  /** The first connections' count that are long downloads only (for established-flow checks). */
}

const o = JSON.parse(process.argv[2] ?? '{}') as Options;
const HARD_MAX = 200_000;
const started = Date.now();
const deadline = started + Math.min(o.durationMs, 30 * 60_000);
const max = Math.min(o.maxConnections, HARD_MAX);
let rate = Math.min(Math.max(o.rate, 0), 2000);
let n = 0;
let inFlight = 0;
let stopped = false;
const resolvers = new Map<string, Resolver>();

function resolverFor(src: string): Resolver {
  let r = resolvers.get(src);
  if (!r) {
    r = new Resolver({ timeout: 1000, tries: 2 });
    r.setServers([o.resolver]);
    // The first argument is the IPv4 source, the second the IPv6 one.
    if (src.includes(':')) r.setLocalAddress('0.0.0.0', src);
    else r.setLocalAddress(src);
    resolvers.set(src, r);
  }
  return r;
}

function emit(rec: Record<string, unknown>) {
  process.stdout.write(`${JSON.stringify({ region: o.region, ...rec })}\n`);
}

async function connection(i: number) {
  const src = o.blocks[i % o.blocks.length]!;
  const long = o.longEvery > 0 && i % o.longEvery === o.longEvery - 1;
  const t = Date.now();
  let dst = o.target ?? '';
  if (!dst) {
    try {
      const r = resolverFor(src);
      dst = (await (o.family === 6 ? r.resolve6(o.name) : r.resolve4(o.name)))[0] ?? '';
    } catch (err) {
      emit({
        t,
        end: Date.now(),
        src,
        dst: '',
        kind: long ? 'long' : 'short',
        outcome: 'dns-failed',
        error: String(err),
      });
      return;
    }
  }
  const path = long ? `/big?size=${o.longBytes}&chunkMs=${o.longChunkMs}` : '/';
  await new Promise<void>((resolve) => {
    let edge = '';
    let bytes = 0;
    let done = false;
    const finish = (outcome: string, error?: string) => {
      if (done) return;
      done = true;
      emit({
        t,
        end: Date.now(),
        src,
        dst,
        kind: long ? 'long' : 'short',
        edge,
        outcome,
        bytes,
        ...(error ? { error } : {}),
      });
      resolve();
    };
    const req = http.get(
      { host: dst, port: 80, path, localAddress: src, agent: false, timeout: o.timeoutMs },
      (res) => {
        edge = String(res.headers['x-served-by'] ?? '');
        emit({ open: true, t, src, dst, kind: long ? 'long' : 'short', edge });
        const want = Number(res.headers['content-length'] ?? -1);
        res.on('data', (d: Buffer) => {
          bytes += d.length;
        });
        res.on('end', () => finish(want < 0 || bytes === want ? 'completed' : 'reset'));
        res.on('error', (e: NodeJS.ErrnoException) =>
          finish(e.message === 'timeout' ? 'timeout' : 'reset', e.code ?? e.message),
        );
        res.on('aborted', () => finish('reset', 'aborted'));
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error('timeout'));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const outcome = e.message === 'timeout' ? 'timeout' : e.code === 'ECONNREFUSED' ? 'refused' : 'reset';
      finish(outcome, e.code ?? e.message);
    });
  });
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stop') stopped = true;
  else {
    try {
      const m = JSON.parse(line) as { rate?: number };
      if (typeof m.rate === 'number') rate = Math.min(Math.max(m.rate, 0), 2000);
    } catch {
      // not a command
    }
  }
});

// A ticker that keeps the offered rate: the connections due by now, at most 200 open at once.
let due = 0;
let last = Date.now();
const tick = setInterval(() => {
  const now = Date.now();
  due += ((now - last) / 1000) * rate;
  last = now;
  while (due >= 1 && !stopped && n < max && now < deadline && inFlight < 200) {
    due--;
    const i = n++;
    inFlight++;
    void connection(i).finally(() => {
      inFlight--;
    });
  }
  if (due > 50) due = 50;
  if ((stopped || n >= max || now >= deadline) && inFlight === 0) {
    clearInterval(tick);
    emit({ summary: true, connections: n, ms: now - started });
    process.exit(0);
  }
}, 10);
