import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { ApiClient } from '@catchment/api-client';
import { createLogger, type Logger, loadKek, type Snapshot, verifySnapshot } from '@catchment/core';
import {
  type ExplainInput,
  type Explanation,
  explainClient,
  GeoDb,
  type GeoOptions,
  SteeringBuilder,
  type SteeringTable,
  shareSteering,
} from '@catchment/geo';
import { loadError as batchUnavailable } from '@catchment/udp-batch';
import { type CookieSecrets, parseSecret, randomSecret } from './cookies.ts';
import { DEFAULT_TCP, type Endpoint, type TcpLimits } from './listener.ts';
import { DnsMetrics } from './metrics.ts';
import type { RrlOptions } from './rrl.ts';
import type { BlockCount, StatsDelta } from './stats.ts';
import { TcpCaps } from './tcp-caps.ts';
import { AnswerThread, type LoadResult, type ThreadOptions } from './thread.ts';

export interface DnsServerOptions {
  /** UDP and TCP endpoints (IPv4 and IPv6 addresses). */
  listen: Endpoint[];
  geo?: GeoOptions;
  /** Answering threads; 0 answers in the calling thread. Default: one per core. */
  workers?: number;
  /** First snapshot to answer from (more arrive through setSnapshot). */
  snapshot?: Snapshot;
  tcp?: Partial<TcpLimits>;
  /** Response rate limiting; off unless given. Clients with a valid DNS cookie are exempt. */
  rrl?: RrlOptions;
  /**
   * DNS cookies (RFC 7873, RFC 9018 server cookies). Default: on, with a random secret for this
   * process; give the same secret to every server of an anycast set. false: off.
   */
  cookies?: CookieSecrets | false;
  /** Accept ECS only from these resolvers (plus the snapshot's settings.ecsTrustedResolvers). */
  ecsTrustedResolvers?: string[];
  /** Metrics (/metrics) and health (/healthz, /readyz) endpoint. */
  http?: Endpoint;
  /** Answer counts per (client block, edge) to the API every interval. */
  /** Load reports to the API, through the process's API client (its URL list and TLS settings). */
  reports?: { client: ApiClient; consumer: string; intervalMs?: number };
  latencySample?: number;
  /**
   * UDP I/O: 'batch' (default) reads and writes many datagrams per system call through the
   * udp-batch addon, falling back to 'dgram' (and saying so) where the addon cannot load.
   */
  udpIo?: 'batch' | 'dgram';
  /** Log 1 in N queries (0 or absent: off). */
  queryLogSample?: number;
  /**
   * DNSSEC key-encryption key (32 bytes): opens the signing keys that snapshots carry encrypted.
   * Default: loadKek() (CATCHMENT_DNSSEC_KEK / CATCHMENT_DNSSEC_KEK_FILE); without one, signed
   * zones are served unsigned and the load reports it.
   */
  dnssecKek?: Buffer;
  logger?: Logger;
}

export interface DnsServer {
  setSnapshot(snapshot: Snapshot): Promise<LoadResult>;
  current(): Snapshot | undefined;
  explain(input: ExplainInput): Explanation | undefined;
  metrics: DnsMetrics;
  /** Port of the metrics/health endpoint (useful with port 0). */
  httpPort: number | undefined;
  /**
   * Rotates the DNS cookie secret: `secret` (default: a new random one) issues cookies from now
   * on, `previousSecret` (default: the secret in use until now) is still accepted.
   */
  setCookieSecrets(secrets?: CookieSecrets): Promise<void>;
  /** Graceful reload: re-read the GeoIP files, rebuild and swap the tables in every thread. */
  reload(): Promise<void>;
  /** Sends the pending report now (also done on the interval and at close). */
  flushReport(): Promise<void>;
  close(): Promise<void>;
}

interface ThreadHandle {
  call<T>(type: string, extra?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * A worker thread that is replaced when it dies (a bug must cost one thread a moment, not the
 * server its capacity): the replacement loads the current snapshot and binds the shared ports.
 */
function workerHandle(
  spawnWorker: () => Worker,
  log: Logger,
  current: () => { snapshot: Snapshot; steering: SteeringTable } | undefined,
  /** Called when the thread is gone (before a replacement starts). */
  onExit: () => void,
): ThreadHandle {
  let next = 1;
  let stopping = false;
  let started = false;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let w: Worker;
  const call = <T>(type: string, extra: Record<string, unknown> = {}): Promise<T> => {
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ type, id, ...extra });
    });
  };
  const attach = () => {
    w = spawnWorker();
    w.on('message', (m: { type: string; id?: number; result?: unknown; error?: string; message?: string }) => {
      if (m.type === 'done' && m.id !== undefined) {
        const p = waiting.get(m.id);
        waiting.delete(m.id);
        if (m.error) p?.reject(new Error(m.error));
        else p?.resolve(m.result);
      }
    });
    w.on('error', (err) => log.error({ err }, 'dns worker failed'));
    w.on('exit', (code) => {
      for (const p of waiting.values()) p.reject(new Error(`worker exited with code ${code}`));
      waiting.clear();
      onExit();
      if (stopping || !started) return;
      log.error({ code }, 'dns worker exited: starting a replacement');
      attach();
      const now = current();
      void (async () => {
        if (now) await call('load', now);
        await call('start');
      })().catch((err) => log.error({ err }, 'replacement dns worker failed to start'));
    });
  };
  attach();
  return {
    async call<T>(type: string, extra: Record<string, unknown> = {}): Promise<T> {
      const r = await call<T>(type, extra);
      if (type === 'start') started = true;
      return r;
    },
    async stop() {
      stopping = true;
      await call('stop').catch(() => undefined);
      await w.terminate();
    },
  };
}

function localHandle(t: AnswerThread): ThreadHandle {
  return {
    async call<T>(type: string, extra: Record<string, unknown> = {}): Promise<T> {
      if (type === 'start') return (await t.start()) as T;
      if (type === 'load') return t.load(extra.snapshot as Snapshot, extra.steering as SteeringTable) as T;
      if (type === 'drain') return t.drain() as T;
      if (type === 'blocks') return t.drainBlocks() as T;
      if (type === 'cookies') return t.setCookies(extra.cookies as CookieSecrets | false) as T;
      throw new Error(`unknown call ${type}`);
    },
    stop: () => t.stop(),
  };
}

function udpIo(wanted: 'batch' | 'dgram', log: Logger): 'batch' | 'dgram' {
  if (wanted === 'dgram') return 'dgram';
  const why = batchUnavailable();
  if (why === undefined) return 'batch';
  log.warn({ reason: why }, 'batched UDP I/O unavailable: answering through dgram (about half the throughput)');
  return 'dgram';
}

/**
 * The authoritative server: answering threads (worker threads sharing the ports with
 * SO_REUSEPORT, or the calling thread), metrics, health, reports and snapshot swaps.
 */
export async function createDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const log = opts.logger ?? createLogger('dns');
  const workers = opts.workers ?? availableParallelism();
  const threadOpts: ThreadOptions = {
    listener: {
      endpoints: opts.listen,
      tcp: { ...DEFAULT_TCP, ...opts.tcp },
      rrl: opts.rrl,
      reusePort: workers > 0,
      latencySample: opts.latencySample ?? 64,
      queryLogSample: opts.queryLogSample ?? 0,
      udpIo: udpIo(opts.udpIo ?? 'batch', log),
    },
    ecsTrustedResolvers: opts.ecsTrustedResolvers ?? [],
    // One secret for every thread: a client's UDP and TCP queries may reach different threads.
    cookies: opts.cookies === false ? false : { ...opts.cookies, secret: opts.cookies?.secret ?? randomSecret() },
    dnssecKek: (opts.dnssecKek ?? loadKek())?.toString('hex'),
  };
  let cookies = threadOpts.cookies;
  // TCP caps count for the whole process: one set of counters shared by every answering thread.
  const tcpCaps = TcpCaps.buffer(Math.max(workers, 1));
  const metrics = new DnsMetrics();
  // One set of GeoIP readers and one build of the steering tables for all threads (shared
  // memory), also used by explain; files are watched and the tables rebuilt on change.
  const geo = new GeoDb(opts.geo ?? {});
  let current: Snapshot | undefined;
  // `steering` for explain; `posted`: what the answering threads got (shared tries, no locations).
  let tables: { version: number; geoVersion: number; steering: SteeringTable; posted: SteeringTable } | undefined;
  let blocks: BlockCount[] = [];
  // Reuses the geo tries and unchanged subtrees across snapshots (state/shift/load changes are cheap).
  const builder = new SteeringBuilder();

  const threads: ThreadHandle[] = [];
  if (workers === 0) {
    const listener = { ...threadOpts.listener, tcpCaps: { buffer: tcpCaps, thread: 0 } };
    threads.push(localHandle(new AnswerThread({ ...threadOpts, listener })));
  } else {
    // Workers created from now on get `gc`: each collects within a second of a swap, which is what
    // frees the previous (shared) tables (see worker.ts). The main thread's context is unaffected.
    setFlagsFromString('--expose-gc');
    for (let i = 0; i < workers; i++) {
      // Built at each spawn: a replacement gets the cookie secrets current then.
      const spawnWorker = () => {
        const workerData: ThreadOptions = {
          ...threadOpts,
          listener: { ...threadOpts.listener, tcpCaps: { buffer: tcpCaps, thread: i } },
        };
        // In the release bundle (scripts/release) the worker is plain JavaScript beside this file.
        const file = import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.mjs';
        return new Worker(new URL(file, import.meta.url), { workerData });
      };
      threads.push(
        workerHandle(
          spawnWorker,
          log,
          () => (current && tables ? { snapshot: current, steering: tables.posted } : undefined),
          // A dead worker's connections closed without its close handlers: give its places back.
          () => TcpCaps.reclaim(tcpCaps, i),
        ),
      );
    }
  }

  /** Builds the tables of `snap` with the current GeoIP data and swaps them into every thread. */
  const install = async (snap: Snapshot, why: string): Promise<LoadResult> => {
    const started = performance.now();
    const built = builder.build(snap.body, geo);
    // The tables hold what answers need: the GeoIP files' bytes are read again only when the
    // tables must be rebuilt from them (or for explain).
    geo.releaseFiles();
    const steering = workers > 0 ? shareSteering(built) : built;
    const results = await Promise.all(threads.map((t) => t.call<LoadResult>('load', { snapshot: snap, steering })));
    current = snap;
    tables = { version: snap.version, geoVersion: geo.version, steering: built, posted: steering };
    const r = { ...results[0]!, buildMs: Math.round(performance.now() - started) };
    metrics.snapshotVersion.set(snap.version);
    metrics.blocks.set(r.blocks);
    for (const p of r.problems) log.warn({ version: snap.version }, `snapshot record skipped: ${p}`);
    log.info({ version: snap.version, blocks: r.blocks, ms: r.buildMs }, why);
    return r;
  };
  // Swaps happen one at a time, in order (a GeoIP change and a new snapshot may coincide).
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const run = queue.then(f, f);
    queue = run.catch(() => undefined);
    return run;
  };
  const setSnapshot = (snapshot: Snapshot): Promise<LoadResult> =>
    serial(() => install(verifySnapshot(snapshot), 'snapshot loaded'));
  geo.on('change', () => {
    void serial(async () => {
      if (current) await install(current, 'GeoIP databases changed: tables rebuilt');
    }).catch((err) => log.error({ err }, 'rebuild after a GeoIP change failed; keeping the current tables'));
  });
  geo.on('error', (err) => log.error({ err }, 'GeoIP database reload failed; keeping the current data'));

  // Tables before sockets: the first query already has an answer.
  if (opts.snapshot) await setSnapshot(opts.snapshot);
  try {
    await Promise.all(threads.map((t) => t.call('start')));
  } catch (err) {
    await Promise.all(threads.map((t) => t.stop()));
    throw err;
  }

  const drain = async () => {
    const parts = await Promise.all(
      threads.map((t) => t.call<{ stats: StatsDelta; tcp: number }>('drain').catch(() => undefined)),
    );
    let tcp = 0;
    for (const p of parts) {
      if (!p) continue;
      metrics.add(p.stats);
      tcp += p.tcp;
    }
    metrics.tcpConnections.set(tcp);
    if (current) metrics.snapshotAge.set((Date.now() - Date.parse(current.createdAt)) / 1000);
  };
  const statsTimer = setInterval(() => void drain(), 1000);
  statsTimer.unref();

  const flushReport = async () => {
    const parts = await Promise.all(threads.map((t) => t.call<BlockCount[]>('blocks').catch(() => [])));
    for (const p of parts) blocks.push(...p);
    if (!opts.reports) {
      blocks = [];
      return;
    }
    const merged = new Map<string, BlockCount>();
    for (const b of blocks) {
      const k = `${b.block}|${b.edge}`;
      const m = merged.get(k);
      if (m) m.answers += b.answers;
      else merged.set(k, { ...b });
    }
    blocks = [];
    const body = {
      consumer: opts.reports.consumer,
      kind: 'dns',
      snapshotVersion: current?.version ?? 0,
      healthy: current !== undefined,
      load: { answers: [...merged.values()].reduce((n, b) => n + b.answers, 0) },
      details: { intervalMs: opts.reports.intervalMs ?? 60_000, blocks: [...merged.values()] },
    };
    try {
      // The answer counts of this interval are sent once; on another API URL when the first fails before it answers.
      const res = await opts.reports.client.request('POST', '/v1/reports', { body, timeoutMs: 5000 });
      if (res.status < 200 || res.status >= 300)
        log.warn({ status: res.status, body: res.text.slice(0, 200) }, 'report refused by the API');
    } catch (err) {
      // The API being down never affects answering (static stability).
      log.warn({ err: String(err) }, 'report not delivered');
    }
  };
  const reportTimer = opts.reports
    ? setInterval(() => void flushReport(), opts.reports.intervalMs ?? 60_000)
    : undefined;
  reportTimer?.unref();

  let http: HttpServer | undefined;
  let httpPort: number | undefined;
  if (opts.http) {
    http = createHttpServer(async (req, res) => {
      if (req.url === '/metrics') {
        await drain();
        res.setHeader('content-type', metrics.registry.contentType);
        res.end(await metrics.registry.metrics());
      } else if (req.url === '/healthz') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ status: 'ok' }));
      } else if (req.url === '/readyz') {
        // Ready means: answering from a snapshot.
        res.statusCode = current ? 200 : 503;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ready: current !== undefined, snapshotVersion: current?.version ?? null }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      http!.once('error', reject);
      http!.listen(opts.http!.port, opts.http!.address, () => resolve());
    });
    const a = http.address();
    httpPort = typeof a === 'object' && a ? a.port : undefined;
  }

  return {
    setSnapshot,
    current: () => current,
    metrics,
    httpPort,
    flushReport,
    async setCookieSecrets(secrets = {}) {
      if (cookies === false) throw new Error('DNS cookies are off on this server');
      const next: CookieSecrets = {
        secret: secrets.secret ?? randomSecret(),
        previousSecret: secrets.previousSecret ?? cookies.secret,
      };
      // Checked here (a bad secret is the caller's error), then swapped in every thread.
      parseSecret(next.secret!);
      if (next.previousSecret) parseSecret(next.previousSecret);
      await Promise.all(threads.map((t) => t.call('cookies', { cookies: next })));
      cookies = next;
      // A worker started after this (a replacement) gets the current secrets.
      threadOpts.cookies = next;
      log.info('DNS cookie secret rotated');
    },
    async reload() {
      await serial(async () => {
        geo.reload();
        if (current) await install(current, 'reloaded: GeoIP files re-read, tables rebuilt');
      });
    },
    explain(input) {
      if (!current || !tables) return undefined;
      return explainClient(current.body, tables.steering, geo, input);
    },
    async close() {
      clearInterval(statsTimer);
      if (reportTimer) clearInterval(reportTimer);
      await flushReport().catch(() => undefined);
      await Promise.all(threads.map((t) => t.stop()));
      geo.close();
      if (http) await new Promise<void>((r) => http!.close(() => r()));
      log.info('dns server stopped');
    },
  };
}
