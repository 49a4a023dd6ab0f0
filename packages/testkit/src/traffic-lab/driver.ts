import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { onAbruptEnd } from '../procs.ts';
import { until } from '../wait.ts';
import type { LabNetwork } from './network.ts';
import { RESOLVER, RESOLVER6 } from './topology.ts';

const CLIENT = fileURLToPath(new URL('./driver-client.ts', import.meta.url));
export const SERVICE = 'www.example.net';

export type Outcome = 'completed' | 'reset' | 'timeout' | 'refused' | 'dns-failed';

/** One client connection as the driver saw it. */
export interface ConnectionRecord {
  region: string;
  /** Start and end (ms since the epoch). */
  t: number;
  end: number;
  /** Client address (one per /24 block) and the address it connected to. */
  src: string;
  dst: string;
  kind: 'short' | 'long';
  /** The edge that served it (`x-served-by`), empty when none answered. */
  edge: string;
  outcome: Outcome;
  bytes: number;
  error?: string;
}

export interface DriveOptions {
  /** New connections per second (changeable with setRate). */
  rate: number;
  durationMs: number;
  maxConnections?: number;
  /** Connect to this address instead of resolving the service through the resolver. */
  target?: string;
  /** Client blocks to use (default: all of the region's, of `family`). */
  sources?: string[];
  /** 6: from the region's IPv6 blocks, through the resolver's IPv6 address, AAAA answers (default 4). */
  family?: 4 | 6;
  /** Every n-th connection a long download (0: none). */
  longEvery?: number;
  longBytes?: number;
  longChunkMs?: number;
  timeoutMs?: number;
}

/**
 * Rate-controlled HTTP clients in one client region (a Node process inside the region's
 * namespace, driver-client.ts): records every connection. Bounded by duration and count;
 * `stop()` stops new connections and lets open ones finish.
 */
export class Traffic {
  readonly records: ConnectionRecord[] = [];
  /** Connections whose response began (edge known), finished or not. */
  readonly opened: Pick<ConnectionRecord, 'region' | 't' | 'src' | 'dst' | 'kind' | 'edge'>[] = [];
  readonly region: string;
  readonly #child: ChildProcess;
  readonly #done: Promise<ConnectionRecord[]>;

  constructor(net: LabNetwork, region: string, opts: DriveOptions) {
    const r = net.region(region);
    this.region = region;
    const options = {
      region,
      resolver: opts.family === 6 ? RESOLVER6 : RESOLVER,
      family: opts.family ?? 4,
      name: SERVICE,
      ...(opts.target ? { target: opts.target } : {}),
      blocks: opts.sources ?? (opts.family === 6 ? r.sources6 : r.sources),
      rate: opts.rate,
      durationMs: opts.durationMs,
      maxConnections: opts.maxConnections ?? Math.ceil((opts.rate * opts.durationMs) / 1000) + 10_000,
      longEvery: opts.longEvery ?? 0,
      longBytes: opts.longBytes ?? 4 * 1024 * 1024,
      longChunkMs: opts.longChunkMs ?? 20,
      timeoutMs: opts.timeoutMs ?? 3000,
    };
    this.#child = spawn('nsenter', [`--net=/run/netns/${r.ns}`, process.execPath, CLIENT, JSON.stringify(options)], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { ...process.env, NODE_TEST_CONTEXT: '' },
    });
    const child = this.#child;
    const forget = onAbruptEnd(() => child.kill('SIGKILL'));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as ConnectionRecord & { summary?: boolean; open?: boolean };
        if (rec.open) this.opened.push(rec);
        else if (!rec.summary) this.records.push(rec);
      } catch {
        // not a record
      }
    });
    this.#done = new Promise((resolve) => {
      child.once('close', () => {
        forget();
        resolve(this.records);
      });
    });
  }

  static start(net: LabNetwork, region: string, opts: DriveOptions): Traffic {
    return new Traffic(net, region, opts);
  }

  /** Resolves once `n` connections have begun their response (bounded by `ms`). */
  async openedAtLeast(n: number, ms = 20_000): Promise<void> {
    await until(`${n} connections open in ${this.region}`, () => this.opened.length >= n, ms, 20);
  }

  setRate(rate: number): void {
    this.#child.stdin?.write(`${JSON.stringify({ rate })}\n`);
  }

  /** No new connections; open ones finish. */
  stop(): void {
    this.#child.stdin?.write('stop\n');
  }

  /** Resolves with every record once the client ended (at most `ms`, then it is killed). */
  async done(ms = 120_000): Promise<ConnectionRecord[]> {
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), ms);
    try {
      return await this.#done;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }
}

/** Connections per serving edge (empty edge: nobody answered). */
export function byEdge(records: ConnectionRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) out[r.edge || '-'] = (out[r.edge || '-'] ?? 0) + 1;
  return out;
}

export function byOutcome(records: ConnectionRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) out[r.outcome] = (out[r.outcome] ?? 0) + 1;
  return out;
}

/** The edge that served most connections from each client block. */
export function edgeByBlock(records: ConnectionRecord[]): Map<string, string> {
  const counts = new Map<string, Map<string, number>>();
  for (const r of records) {
    if (!r.edge) continue;
    const block = r.src;
    const m = counts.get(block) ?? new Map<string, number>();
    m.set(r.edge, (m.get(r.edge) ?? 0) + 1);
    counts.set(block, m);
  }
  const out = new Map<string, string>();
  for (const [block, m] of counts) out.set(block, [...m].sort((a, b) => b[1] - a[1])[0]![0]);
  return out;
}
