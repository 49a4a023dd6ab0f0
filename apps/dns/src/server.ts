import type { Server as HttpServer } from 'node:http';
import { availableParallelism } from 'node:os';
import type { Logger, Snapshot } from '@catchment/core';
import { loadKek } from '@catchment/core/dnssec-keys';
import { createLogger } from '@catchment/core/logger';
import { verifySnapshot } from '@catchment/core/snapshot';
// Subpaths, not the package index: a DNS process loads what it runs (each module costs memory).
import { type ExplainInput, type Explanation, explainClient } from '@catchment/geo/explain';
import { GeoDb, type GeoOptions } from '@catchment/geo/geodb';
import { SteeringBuilder, type SteeringTable, shareSteering } from '@catchment/geo/steering';
import { loadError as batchUnavailable } from '@catchment/udp-batch';
import { type CookieSecrets, parseSecret, randomSecret } from './cookies.ts';
import { startHealthEndpoint } from './health-endpoint.ts';
import { DEFAULT_TCP, type Endpoint, type TcpLimits } from './listener.ts';
import { DnsMetrics } from './metrics.ts';
import { type ReportOptions, sendReport } from './report.ts';
import type { RrlOptions } from './rrl.ts';
import type { BlockCount, StatsDelta } from './stats.ts';
import { TcpCaps } from './tcp-caps.ts';
import type { LoadResult, ThreadOptions } from './thread.ts';
import { answeringThreads } from './thread-handles.ts';

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
  /**
   * Load reports (answer counts per client block and edge) to the API every interval, through
   * the process's API client (its URL list and TLS settings).
   */
  reports?: ReportOptions;
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

function udpIo(wanted: 'batch' | 'dgram', log: Logger): 'batch' | 'dgram' {
  if (wanted === 'dgram') return 'dgram';
  const why = batchUnavailable();
  if (why === undefined) return 'batch';
  log.warn({ reason: why }, 'batched UDP I/O unavailable: answering through dgram (about half the throughput)');
  return 'dgram';
}

/** What every answering thread is started with. */
function threadOptions(opts: DnsServerOptions, workers: number, log: Logger): ThreadOptions {
  return {
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
}

/**
 * The authoritative server: answering threads (worker threads sharing the ports with
 * SO_REUSEPORT, or the calling thread), metrics, health, reports and snapshot swaps.
 */
export async function createDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const log = opts.logger ?? createLogger('dns');
  const workers = opts.workers ?? availableParallelism();
  const threadOpts = threadOptions(opts, workers, log);
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
  // Reuses the geo tries and unchanged subtrees across snapshots (state/shift/load changes are cheap).
  const builder = new SteeringBuilder();

  const threads = answeringThreads(workers, threadOpts, tcpCaps, log, () =>
    current && tables ? { snapshot: current, steering: tables.posted } : undefined,
  );

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
    // Drained from every thread also without reports, so the counters never grow.
    const parts = await Promise.all(threads.map((t) => t.call<BlockCount[]>('blocks').catch(() => [])));
    if (opts.reports) await sendReport(opts.reports, parts.flat(), current, log);
  };
  const reportTimer = opts.reports
    ? setInterval(() => void flushReport(), opts.reports.intervalMs ?? 60_000)
    : undefined;
  reportTimer?.unref();

  let http: HttpServer | undefined;
  let httpPort: number | undefined;
  if (opts.http)
    ({ server: http, port: httpPort } = await startHealthEndpoint(opts.http, metrics, drain, () => current));

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
