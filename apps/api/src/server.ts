import type { Server as HttpsServer } from 'node:https';
import { CatchmentError, createLogger, type Logger, type Snapshot } from '@catchment/core';
import { compileSnapshot, type Database, publications, publishSnapshot } from '@catchment/db';
import { createExplainer, GeoDb, type GeoOptions, steeringChanged } from '@catchment/geo';
import type { SimulationRunner } from '@catchment/sim';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerActorView } from './actor-view.ts';
import { READ, registerAuth } from './auth.ts';
import type { ApiContext, RouteInfo } from './context.ts';
import { DistributionLimiter, type DistributionLimitOptions } from './distribution-limit.ts';
import { registerEncodingChecks } from './encoding.ts';
import { type LoadPublicationOptions, LoadPublisher } from './load-publication.ts';
import { createMetrics, registerRequestMetrics } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import { sendProblem, toCatchmentError } from './problem.ts';
import { type CompileSnapshot, type PublishSnapshot, SnapshotHub } from './publication.ts';
import type { Explain } from './routes/explain.ts';
import { registerRoutes } from './routes/index.ts';
import { type CheckAction, checkActionRules } from './safety/index.ts';
import { inProcessRunner, isSimulationWorker, type SimulationWorker, workerRunner } from './simulate/in-worker.ts';
import { DEFAULT_SIMULATE_LIMITS, type SimulateLimits } from './simulate/limits.ts';
import { OneAtATime } from './simulate/one-at-a-time.ts';
import { type ApiTlsOptions, httpsOptionsOf, watchTlsFiles } from './tls.ts';
import { TokenVerifier } from './token-verifier.ts';
import { registerUi } from './ui.ts';
import { validatorCompiler } from './validator.ts';
import type { VerificationLimitOptions } from './verification-limit.ts';

export interface ApiOptions {
  database: Database;
  logger?: Logger;
  /** Compiles the snapshot body of the current state (default: packages/db compileSnapshot). */
  compile?: CompileSnapshot;
  /** Publishes a new version after changes (default: packages/db publishSnapshot); null: never publish. */
  publish?: PublishSnapshot | null;
  /** The safety step of operator actions; defaults to apps/api/src/safety. */
  checkAction?: CheckAction;
  /**
   * The decision behind GET /v1/explain. Default: packages/geo's `createExplainer` over a
   * GeoDb opened (on first use) from `geo`, or the embedded country database; null: none.
   */
  explain?: Explain | null;
  /**
   * The simulator behind POST /v1/simulate: packages/sim with the real controller, which only
   * the CLI can assemble (apps never import apps). A `SimulationWorker` (what `catchment start`
   * gives: the CLI's worker entry) runs each simulation in a worker thread, bounded by
   * `simulateLimits` (wall clock, memory) and stopped when its client goes away; a function
   * runs in-process, on the API's event loop (tests). Absent: 503 SIMULATE_UNAVAILABLE.
   */
  simulate?: SimulationWorker | SimulationRunner;
  /** Bounds on the scenarios POST /v1/simulate runs (default DEFAULT_SIMULATE_LIMITS). */
  simulateLimits?: Partial<SimulateLimits>;
  /** GeoIP files for the default explainer (packages/geo GeoOptions). */
  geo?: GeoOptions;
  /** Called for every new snapshot version (in-process DNS server). */
  onSnapshot?: (snap: Snapshot) => void;
  /** Requests per token per window (default 1200 per minute); snapshot distribution is apart. */
  rateLimit?: { max: number; timeWindowMs: number };
  /** Failed authentications per client address and per token prefix (default 20 per minute). */
  authFailureLimit?: { max: number; timeWindowMs: number };
  /** scrypt checks of token secrets at once, waiting, longest wait (default 1, 64, 5 s); past it 503 AUTH_BUSY. */
  authVerificationLimit?: VerificationLimitOptions;
  /** Snapshot requests per consumer (token and client address) per window (default 300 per minute). */
  snapshotRateLimit?: DistributionLimitOptions;
  /**
   * Load-only publications after edge load reports (LoadPublisher: at most one per interval,
   * only when DNS answers would change); null: load reports wait for another change.
   */
  loadPublication?: LoadPublicationOptions | null;
  /** Poll interval for versions published by other processes while long-polls wait. */
  pollMs?: number;
  /** Largest accepted request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  /** HTTPS from these files (reloaded on change), optionally with client certificates; default plain HTTP. */
  tls?: ApiTlsOptions | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    catchment: ApiContext;
  }
}

/** The operator REST API as a fastify instance, ready to `listen` or `inject`. */
export async function buildApi(opts: ApiOptions): Promise<FastifyInstance> {
  const logger = opts.logger ?? createLogger('api');
  const app = Fastify({
    ...(opts.tls ? { https: httpsOptionsOf(opts.tls) } : {}),
    loggerInstance: logger,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    // Idle keep-alive sockets close at once; requests in flight finish (long-polls are ended in preClose).
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false } },
    // Errors before routing (a URL that is not valid percent-encoded UTF-8, a too long
    // parameter) are problems like any other.
    frameworkErrors: (err, req, reply) => sendProblem(reply, req, toCatchmentError(err)),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  const routes: RouteInfo[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      if (method !== 'HEAD')
        routes.push({ method, url: r.url, access: r.config?.access ?? READ, hidden: !!r.schema?.hide });
    }
  });

  const metrics = createMetrics();
  const publish: PublishSnapshot | undefined =
    opts.publish === null
      ? undefined
      : (opts.publish ?? (async (db, actor) => (await publishSnapshot(db, { actor })).snapshot));
  const hub = new SnapshotHub({
    db: opts.database.db,
    logger,
    publish,
    pollMs: opts.pollMs,
    listen: opts.database.listen?.bind(opts.database),
  });
  hub.on('snapshot', (snap) => {
    metrics.snapshotVersion.set(snap.version);
    try {
      opts.onSnapshot?.(snap);
    } catch (err) {
      logger.error({ err }, 'onSnapshot hook failed');
    }
  });
  // Publications by anyone in this process (the API itself, an in-process controller)
  // wake long-polls at once; other processes' are found by the hub's poll.
  const fromOthers = (snap: Snapshot) => hub.notify(snap);
  publications.on('published', fromOthers);

  const verifier = new TokenVerifier(opts.database.db, {
    limit: opts.authVerificationLimit,
    onVerification: (outcome) => metrics.authVerifications.inc({ outcome }),
  });
  const explainer = defaultExplainer(opts);
  const loads =
    opts.publish === null || opts.loadPublication === null
      ? undefined
      : new LoadPublisher(
          // The publication path of every change, told to skip bodies that answer the same.
          () => publishSnapshot(opts.database.db, { actor: 'load-reports', onlyIf: steeringChanged }),
          logger,
          opts.loadPublication,
        );
  const simulateLimits: SimulateLimits = { ...DEFAULT_SIMULATE_LIMITS, ...opts.simulateLimits };
  const ctx: ApiContext = {
    database: opts.database,
    db: opts.database.db,
    logger,
    hub,
    distribution: new DistributionLimiter(opts.snapshotRateLimit),
    tokens: verifier,
    metrics,
    checkAction: opts.checkAction ?? checkActionRules(),
    compile: opts.compile ?? compileSnapshot,
    routes,
    explain: explainer.explain,
    loads,
    simulate:
      opts.simulate === undefined
        ? undefined
        : isSimulationWorker(opts.simulate)
          ? workerRunner(opts.simulate, simulateLimits)
          : inProcessRunner(opts.simulate),
    simulateLimits,
    simulations: new OneAtATime(),
    simulationStops: new Set(),
    async changed(actor) {
      try {
        await hub.publish(actor);
      } catch (err) {
        // The change is committed; the controller (or the next change) publishes it.
        logger.error({ err }, 'snapshot publication after a change failed');
      }
    },
  };
  app.decorate('catchment', ctx);
  // Not awaited: a database that is slow to answer must not hold the API's start (the poll covers it).
  void hub.subscribe();
  // Learn the latest version now, so snapshots can be served from memory if the database goes away.
  await hub.latest().catch((err) => logger.warn({ err }, 'cannot read the latest snapshot yet'));

  app.setErrorHandler((err, req, reply) => {
    const ce = toCatchmentError(err);
    if (ce.code === 'DB_UNREACHABLE') req.log.warn({ err: (err as Error).message }, 'database unreachable');
    else if (ce.code === 'AUTH_BUSY') req.log.warn('token verification gate full');
    else if (ce.status >= 500) req.log.error({ err }, 'request failed');
    return sendProblem(reply, req, ce);
  });
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, req, new CatchmentError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)),
  );

  await registerOpenApi(app);

  registerEncodingChecks(app);
  registerAuth(app, ctx.db, verifier, opts.authFailureLimit, opts.tls);
  if (opts.tls) {
    const unwatch = watchTlsFiles(app.server as HttpsServer, opts.tls, logger);
    app.addHook('onClose', async () => unwatch());
  }
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    max: opts.rateLimit?.max ?? 1200,
    timeWindow: opts.rateLimit?.timeWindowMs ?? 60_000,
    keyGenerator: (req) => (req.principal ? `token:${req.principal.tokenId}` : `ip:${req.ip}`),
    // c.after is the time left until the window resets (also sent as Retry-After), not the window.
    errorResponseBuilder: (_req, c) =>
      new CatchmentError(
        'RATE_LIMITED',
        `rate limit of ${c.max} requests per ${Math.round((opts.rateLimit?.timeWindowMs ?? 60_000) / 1000)} s exceeded; retry in ${c.after}`,
      ),
  });
  registerRequestMetrics(app, metrics);
  registerActorView(app, ctx.db);
  await registerRoutes(app, ctx);
  await registerUi(app);

  // Before the server waits for requests in flight: end the long-polls (they answer 304).
  app.addHook('preClose', async () => {
    publications.off('published', fromOthers);
    loads?.close();
    hub.close();
    // A simulation in flight is stopped (its worker terminated), not waited for: 503 SIMULATION_CANCELLED.
    for (const stop of ctx.simulationStops) stop();
  });
  app.addHook('onClose', async () => explainer.close());
  return app;
}

/** The explain step: the caller's, none, or packages/geo's over a lazily opened GeoDb. */
function defaultExplainer(opts: ApiOptions): { explain: Explain | undefined; close(): void } {
  if (opts.explain !== undefined) return { explain: opts.explain ?? undefined, close() {} };
  let geo: GeoDb | undefined;
  let explain: ReturnType<typeof createExplainer> | undefined;
  return {
    explain: (snapshot, query) => {
      if (!geo) {
        geo = new GeoDb({ watch: false, ...opts.geo });
        explain = createExplainer(geo);
      }
      return explain?.(snapshot, query);
    },
    close: () => geo?.close(),
  };
}

export interface StartedApi {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Builds and listens; `close` stops accepting, ends long-polls and waits for requests in flight. */
export async function startApi(opts: ApiOptions & { host?: string; port?: number }): Promise<StartedApi> {
  const app = await buildApi(opts);
  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  const host = (opts.host ?? '127.0.0.1').includes(':') ? `[${opts.host}]` : (opts.host ?? '127.0.0.1');
  return { app, url: `${opts.tls ? 'https' : 'http'}://${host}:${port}`, close: () => app.close() };
}
