import type { Server } from 'node:http';
import { ApiClient, type ClientTlsFiles } from '@catchment/api-client';
import { createLogger, DEFAULT_PORTS, type Logger, type Snapshot, SnapshotFollower } from '@catchment/core';
import {
  checkMaxPrefixes,
  DEFAULT_MAX_PREFIXES_PER_SESSION,
  type DesiredAnnouncement,
  desiredAnnouncements,
  formatCommunity,
  RouteChangeLog,
  type RouteDiff,
  type SessionState,
  type Speaker,
} from '@catchment/routing';
import cron from 'node-cron';
import type { Registry } from 'prom-client';
import { AddressWatch, type LocalAddress, type RequiredAddress } from './addresses.ts';
import type { Applier } from './applier.ts';
import { type HealthCheckSpec, HealthMonitor } from './health.ts';
import { startAgentHttp } from './http.ts';
import { LoadSampler } from './load/sampler.ts';
import type { EdgeLoad, LoadSource } from './load/source.ts';
import { decideLocalWithdrawals } from './local-withdrawals.ts';
import { createEdgeMetrics, type EdgeMetrics } from './metrics.ts';
import { type Observation, type ObservedApplier, observation, readSessions } from './observation.ts';
import { edgeReportOf, sendReport } from './reporter.ts';

/** What the agent needs from a snapshot follower (core's SnapshotFollower has it). */
export interface SnapshotSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  current(): Snapshot | undefined;
  on(event: 'snapshot', listener: (snap: Snapshot) => void): unknown;
}

export interface EdgeAgentOptions {
  edge: string;
  speaker: Speaker;
  /** A snapshot source; else a SnapshotFollower on apiUrl/token/cacheFile is made. */
  follower?: SnapshotSource;
  /** The API's URL, or a comma-separated list of them (failover in order). */
  apiUrl?: string;
  token?: string;
  /** CA of the API's certificate and this agent's client certificate (files). */
  apiTls?: ClientTlsFiles;
  /** Last-known-good snapshot file (required when the agent makes its follower). */
  cacheFile?: string;
  waitSeconds?: number;
  /** More things to bring in line with each snapshot (e.g. the XDP DSR maps). */
  appliers?: Applier[];
  checks?: HealthCheckSpec[];
  /** Drift repair schedule (node-cron, seconds field allowed); default every 30 s. */
  reconcileCron?: string;
  /** Report to the API every so often (ms, default 10 s; 0: only after reconciles). */
  reportIntervalMs?: number;
  maxPrefixesPerSession?: number;
  /** On stop, re-announce everything with GRACEFUL_SHUTDOWN (RFC 8326) and wait this long. */
  gracefulShutdownOnStop?: boolean;
  gracefulShutdownWaitMs?: number;
  /**
   * Where the edge's load comes from (an exporter's counter, the XDP counters): sampled every
   * `intervalMs` (default 5 s) and sent with each report as `load: { rps, source, sampledAt }`.
   */
  load?: { source: LoadSource; intervalMs?: number; timeoutMs?: number };
  /** A prom-client registry to share with the appliers (e.g. XdpDsrApplier's `registry`); default: the agent's own. */
  registry?: Registry;
  /**
   * Check at start and before each report that this host accepts every service address it must
   * (addresses.ts): false to skip; `local` lists the host's addresses (default: its interfaces).
   */
  addressCheck?: false | { local?: () => LocalAddress[] };
  /** Metrics and health endpoint; false for none. Default 127.0.0.1:8455 (DEFAULT_PORTS.edgeHttp). */
  http?: { host: string; port: number } | false;
  logger?: Logger;
}

export interface ReconcileOutcome {
  trigger: string;
  applied: boolean;
  changed: boolean;
  snapshotVersion: number | null;
  error?: string;
}

export interface AgentStatus {
  edge: string;
  snapshotVersion: number | null;
  lastApplyAt: string | null;
  lastError: string | null;
  announcements: { prefix: string; state: string; communities: string[]; reason: string | null }[];
  sessions: SessionState[];
  checks: ReturnType<HealthMonitor['statuses']>;
  localWithdrawals: Record<string, string>;
  /** The load the next report carries (null when there is no fresh sample) and the source's last error. */
  load: (EdgeLoad & { description: string }) | null;
  loadError: string | null;
  /** Service addresses this host must accept and does not (null: not checked). */
  missingAddresses: RequiredAddress[] | null;
  /** What the speaker really exports per session, the checks and the appliers' state: what reports carry. */
  observed: Observation;
}

export interface EdgeAgent {
  reconcile(trigger?: string): Promise<ReconcileOutcome>;
  /** Dry run: what a reconcile would change at the speaker now (no side effects). */
  plan(): Promise<RouteDiff | undefined>;
  status(): AgentStatus;
  readonly metrics: EdgeMetrics;
  /** Base URL of the metrics/health endpoint, when there is one. */
  readonly httpUrl: string | undefined;
  stop(): Promise<void>;
}

/**
 * The edge agent: follows the published snapshot (starting from the last good one on
 * disk), computes its edge's desired announcement set, reconciles the BGP speaker and
 * the other appliers on every change, on health changes and on a schedule (drift
 * repair), and reports back. Losing the API changes nothing (static stability), and
 * stopping the agent never withdraws a route.
 */
export async function startEdgeAgent(opts: EdgeAgentOptions): Promise<EdgeAgent> {
  const log = opts.logger ?? createLogger('edge').child({ edge: opts.edge });
  const cronExpr = opts.reconcileCron ?? '*/30 * * * * *';
  if (!cron.validate(cronExpr)) throw new Error(`invalid reconcile schedule "${cronExpr}"`);
  const metrics = createEdgeMetrics(opts.edge, opts.registry);
  // One client for the snapshot and the reports: they fail over together and share TLS settings.
  const client = opts.apiUrl
    ? new ApiClient({
        urls: opts.apiUrl,
        token: opts.token,
        ...(opts.apiTls ? { tls: opts.apiTls } : {}),
        onFailover: (from, to, reason) => log.warn({ from, to, reason }, 'API unreachable; trying the next API URL'),
      })
    : undefined;
  const follower =
    opts.follower ??
    (() => {
      if (!client || !opts.cacheFile) throw new Error('startEdgeAgent needs a follower, or apiUrl and cacheFile');
      // Only defined values: the follower's defaults are spread under its options.
      return new SnapshotFollower({
        client,
        cacheFile: opts.cacheFile,
        ...(opts.waitSeconds === undefined ? {} : { waitSeconds: opts.waitSeconds }),
        logger: log,
      });
    })();
  const health = new HealthMonitor(opts.checks ?? []);
  const load = opts.load
    ? new LoadSampler({
        source: opts.load.source,
        metrics,
        logger: log,
        ...(opts.load.intervalMs === undefined ? {} : { intervalMs: opts.load.intervalMs }),
        ...(opts.load.timeoutMs === undefined ? {} : { timeoutMs: opts.load.timeoutMs }),
      })
    : undefined;
  const changeLog = new RouteChangeLog();
  let local = new Map<string, string>();
  let desired: DesiredAnnouncement[] = [];
  let sessions: SessionState[] = [];
  let read: Awaited<ReturnType<typeof readSessions>> | undefined;
  const appliers = new Map<string, ObservedApplier>();
  let lastApplyAt: number | undefined;
  let appliedVersion: number | null = null;
  let lastError: string | null = null;
  let gracefulShutdown = false;
  let stopped = false;

  const addresses = new AddressWatch(opts.edge, metrics, log, opts.addressCheck);
  const checkAddresses = () => addresses.check(follower.current());

  const status = (): AgentStatus => ({
    edge: opts.edge,
    snapshotVersion: appliedVersion,
    lastApplyAt: lastApplyAt === undefined ? null : new Date(lastApplyAt).toISOString(),
    lastError,
    announcements: desired.map((d) => ({
      prefix: d.prefix.text,
      state: d.state,
      communities: d.communities.map(formatCommunity),
      reason: d.reason,
    })),
    sessions,
    checks: health.statuses(),
    localWithdrawals: Object.fromEntries(local),
    load: (() => {
      const l = load?.current();
      return l && opts.load ? { ...l, description: opts.load.source.description } : null;
    })(),
    loadError: load?.lastError ?? null,
    missingAddresses: addresses.missing,
    observed: observation({
      speaker: opts.speaker.kind,
      read,
      checks: health.statuses(),
      appliers: [...appliers.values()],
      lastError,
    }),
  });

  const report = async () => {
    if (stopped) return;
    checkAddresses();
    if (!client) return;
    const body = edgeReportOf(status(), opts.speaker.kind, load?.current());
    await sendReport(client, body, log);
  };

  /** Sessions and what each established one really exports (never the desired set). */
  const refreshSessions = async () => {
    read = await readSessions(opts.speaker);
    metrics.sessionUp.reset();
    if (read.readable) {
      sessions = read.sessions.map(({ exported: _e, exportError: _x, ...s }) => s);
      for (const s of sessions) metrics.sessionUp.set({ session: s.name, state: s.state }, s.established ? 1 : 0);
    } else {
      // Unknown is not up: report no sessions rather than the last known states.
      sessions = [];
      metrics.reconcileErrors.inc({ stage: 'sessions' });
      log.warn({ err: read.error }, 'cannot read BGP sessions');
    }
  };

  const once = async (trigger: string): Promise<ReconcileOutcome> => {
    const snap = follower.current();
    if (!snap) return { trigger, applied: false, changed: false, snapshotVersion: null, error: 'no snapshot yet' };
    const end = metrics.reconcileDuration.startTimer();
    const self = snap.body.edges.find((e) => e.name === opts.edge);
    if (self) metrics.capacityRps.set(self.capacityRps);
    const fail = (stage: string, err: unknown): ReconcileOutcome => {
      end();
      lastError = `${stage}: ${(err as Error).message ?? String(err)}`;
      metrics.reconcileErrors.inc({ stage });
      log.error({ err: lastError, version: snap.version, trigger }, 'reconcile failed; the speaker keeps its routes');
      return { trigger, applied: false, changed: false, snapshotVersion: snap.version, error: lastError };
    };
    let next: DesiredAnnouncement[];
    try {
      if ((opts.checks ?? []).length > 0) {
        const decision = decideLocalWithdrawals(snap, opts.edge, health.failingServices(), local, changeLog);
        for (const r of decision.refused) {
          if (!r.verdict.ok) {
            metrics.safetyRefusals.inc({ rule: r.verdict.rule });
            log.warn({ prefix: r.prefix, rule: r.verdict.rule, reason: r.verdict.reason }, 'local withdrawal refused');
          }
        }
        for (const p of decision.changed)
          log.info({ prefix: p, withdrawn: decision.withdrawals.has(p) }, 'local health changes a route');
        local = decision.withdrawals;
      }
      next = desiredAnnouncements(snap, opts.edge, { localWithdrawals: local, gracefulShutdown });
    } catch (err) {
      return fail('desired', err);
    }
    const limit = checkMaxPrefixes(next, opts.maxPrefixesPerSession ?? DEFAULT_MAX_PREFIXES_PER_SESSION);
    if (!limit.ok) {
      metrics.safetyRefusals.inc({ rule: limit.rule });
      return fail('safety', new Error(limit.reason));
    }
    let changed = false;
    try {
      const result = await opts.speaker.apply(next);
      changed = result.changed;
      if (!result.confirmed) log.warn({ version: snap.version }, 'speaker did not confirm the routes in time');
    } catch (err) {
      return fail('speaker', err);
    }
    desired = next;
    let applierError: string | null = null;
    for (const a of opts.appliers ?? []) {
      const name = a.name ?? a.constructor.name;
      const at = new Date().toISOString();
      try {
        await a.apply(snap, opts.edge);
        appliers.set(name, { name, ok: true, at, error: null, state: a.state?.() ?? null });
      } catch (err) {
        applierError = `${name}: ${(err as Error).message}`;
        appliers.set(name, { name, ok: false, at, error: (err as Error).message, state: a.state?.() ?? null });
        metrics.reconcileErrors.inc({ stage: name });
        log.error({ err: applierError }, 'applier failed');
      }
    }
    end();
    lastError = applierError;
    appliedVersion = snap.version;
    lastApplyAt = Date.now();
    metrics.markApplied(lastApplyAt);
    metrics.snapshotVersion.set(snap.version);
    metrics.announcements.set({ state: 'announced' }, next.filter((d) => d.state === 'announced').length);
    metrics.announcements.set({ state: 'withdrawn' }, next.filter((d) => d.state === 'withdrawn').length);
    metrics.reconciles.inc({ trigger, changed: String(changed) });
    if (changed) log.info({ version: snap.version, trigger }, 'speaker reconciled');
    await refreshSessions();
    void report();
    return { trigger, applied: true, changed, snapshotVersion: snap.version };
  };

  // One reconcile at a time; triggers that arrive meanwhile fold into one more run.
  let chain: Promise<unknown> = Promise.resolve();
  let queued: Promise<ReconcileOutcome> | undefined;
  const reconcile = (trigger = 'manual'): Promise<ReconcileOutcome> => {
    if (queued) return queued;
    const p = chain.then(() => {
      queued = undefined;
      // Nothing a reconcile meets may take the agent down: an unexpected error is an outcome too.
      return once(trigger).catch((err: unknown): ReconcileOutcome => {
        lastError = `internal: ${(err as Error)?.message ?? String(err)}`;
        metrics.reconcileErrors.inc({ stage: 'internal' });
        log.error({ err }, 'reconcile failed unexpectedly');
        return { trigger, applied: false, changed: false, snapshotVersion: appliedVersion, error: lastError };
      });
    });
    queued = p;
    chain = p.catch(() => undefined);
    return p;
  };

  follower.on('snapshot', () => {
    if (!stopped) void reconcile('snapshot');
  });
  health.on('change', (s) => {
    metrics.healthCheckUp.set({ service: s.service, target: s.target }, s.state === 'up' ? 1 : 0);
    log.info({ service: s.service, target: s.target, state: s.state, err: s.lastError }, 'health check changed');
    if (!stopped) void reconcile('health');
  });
  for (const s of health.statuses()) metrics.healthCheckUp.set({ service: s.service, target: s.target }, 1);

  const plan = async (): Promise<RouteDiff | undefined> => {
    const snap = follower.current();
    if (!snap) return undefined;
    return opts.speaker.plan(desiredAnnouncements(snap, opts.edge, { localWithdrawals: local, gracefulShutdown }));
  };

  let http: { server: Server; url: string } | undefined;
  if (opts.http !== false) {
    const h = opts.http ?? { host: '127.0.0.1', port: DEFAULT_PORTS.edgeHttp };
    http = await startAgentHttp(
      h.host,
      h.port,
      metrics.registry,
      () => appliedVersion !== null,
      status,
      async () => {
        const diff = await plan();
        return (
          diff && {
            add: diff.add.map((d) => d.prefix.text),
            remove: diff.remove.map((r) => r.prefix.text),
            update: diff.update.map((d) => d.prefix.text),
            unchanged: diff.unchanged,
          }
        );
      },
    );
  }
  try {
    await follower.start();
  } catch (err) {
    if (http) await new Promise<void>((r) => http?.server.close(() => r()));
    throw err;
  }
  health.start();
  load?.start();
  const task = cron.schedule(cronExpr, () => void reconcile('schedule'), {
    name: `edge-${opts.edge}-reconcile`,
  });
  const reportTimer =
    (opts.reportIntervalMs ?? 10_000) > 0
      ? // Session states are read again for every report: a session that came up after the last
        // reconcile must not be reported down until the next one.
        setInterval(() => void refreshSessions().then(report), opts.reportIntervalMs ?? 10_000)
      : undefined;
  reportTimer?.unref();
  if (follower.current()) await reconcile('start');
  // At start, whether or not a reconcile ran (it reports, and so checks, only when it applies).
  checkAddresses();

  return {
    reconcile,
    plan,
    status,
    metrics,
    httpUrl: http?.url,
    async stop() {
      if (stopped) return;
      if (opts.gracefulShutdownOnStop && follower.current()) {
        gracefulShutdown = true;
        const r = await reconcile('graceful-shutdown');
        log.info({ applied: r.applied }, 'announced with GRACEFUL_SHUTDOWN before stopping');
        await new Promise((res) => setTimeout(res, opts.gracefulShutdownWaitMs ?? 0));
      }
      stopped = true;
      await task.stop();
      await task.destroy();
      if (reportTimer) clearInterval(reportTimer);
      health.stop();
      await load?.stop();
      await follower.stop();
      client?.close();
      await chain;
      for (const a of opts.appliers ?? []) await a.close?.();
      await opts.speaker.close();
      if (http) await new Promise<void>((r) => http?.server.close(() => r()));
      // Routes stay with the speaker: stopping the agent never withdraws anything.
    },
  };
}
