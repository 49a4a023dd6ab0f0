import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { apiTlsFromEnv, createToken, type StartedApi, startApi } from '@catchment/api';
import { type Controller, controllerEnvOptions, startController } from '@catchment/controller';
import {
  CatchmentError,
  createLogger,
  type Logger,
  loadConfigFile,
  runtimeSettings,
  type Snapshot,
} from '@catchment/core';
import { type Database, importConfig, latestSnapshot, publications, publishSnapshot, schema } from '@catchment/db';
import { dnsEnvOptions, type FollowingDns, reloadOnHangup, startDnsFromEnv } from '@catchment/dns';
import { createExplainer, GeoDb, type GeoOptions } from '@catchment/geo';
import { and, count, eq, isNull } from 'drizzle-orm';
import { openMigrated } from '../database.ts';
import { simulationWorker } from '../simulate/in-worker.ts';

export const PARTS = ['api', 'dns', 'controller'] as const;
type Part = (typeof PARTS)[number];
export const DEMO = new URL('../../../../config/demo.yaml', import.meta.url).pathname;
const env = process.env;

export interface StartOptions {
  config: string;
  demo: boolean;
  only?: string;
}

/** Port-in-use and similar listen errors, said plainly. */
function listenError(err: unknown, what: string, where: string): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE')
    return new CatchmentError('PORT_IN_USE', `${what}: ${where} is already in use`, { cause: err });
  if (code === 'EADDRNOTAVAIL' || code === 'EACCES') {
    return new CatchmentError('PORT_IN_USE', `${what}: cannot listen on ${where} (${code})`, { cause: err });
  }
  return err;
}

/** Loads the configuration file into an empty database, so a first start has something to serve. */
async function seed(database: Database, file: string, logger: Logger): Promise<void> {
  const [row] = await database.db.select({ n: count() }).from(schema.edges);
  const [zones] = await database.db.select({ n: count() }).from(schema.zones);
  if ((row?.n ?? 0) > 0 || (zones?.n ?? 0) > 0) return;
  const cfg = await loadConfigFile(file);
  const res = await importConfig(database.db, cfg, {
    actor: 'catchment-start',
    reason: `initial configuration ${file}`,
  });
  logger.info({ file, changes: res.changes.length }, 'empty database: configuration loaded');
}

/** A token for the in-process DNS server's reports, replaced at each start (never printed). */
async function internalDnsToken(database: Database): Promise<string> {
  const name = 'catchment-start.dns';
  await database.db.delete(schema.apiTokens).where(eq(schema.apiTokens.name, name));
  return (await createToken(database.db, { name, role: 'agent', actor: 'catchment-start' })).token;
}

/**
 * On a first start there is no way in: create one admin token and leave it in a file only
 * the owner can read (never in the logs). Later starts find it and do nothing.
 */
async function firstAdminToken(database: Database, dataDir: string, logger: Logger): Promise<void> {
  const [admins] = await database.db
    .select({ n: count() })
    .from(schema.apiTokens)
    .where(and(eq(schema.apiTokens.role, 'admin'), isNull(schema.apiTokens.revokedAt)));
  if ((admins?.n ?? 0) > 0) return;
  const made = await createToken(database.db, { name: 'initial-admin', role: 'admin', actor: 'catchment-start' });
  const file = join(dataDir, 'admin-token');
  await writeFile(file, `${made.token}\n`, { mode: 0o600 });
  logger.warn({ file }, 'no admin token existed: created "initial-admin"; its secret is in this file (mode 600)');
}

function geoOptions(): GeoOptions {
  return {
    ...(env.CATCHMENT_GEOIP_CITY ? { city: env.CATCHMENT_GEOIP_CITY } : {}),
    ...(env.CATCHMENT_GEOIP_ASN ? { asn: env.CATCHMENT_GEOIP_ASN } : {}),
    ...(env.CATCHMENT_GEOIP_COUNTRY ? { country: env.CATCHMENT_GEOIP_COUNTRY } : {}),
  };
}

/**
 * The DNSSEC key-encryption key of a single-machine start: when neither CATCHMENT_DNSSEC_KEK nor
 * CATCHMENT_DNSSEC_KEK_FILE is set, a random one in `<data dir>/dnssec-kek` (mode 600), made on
 * the first start, so the demo zone is signed out of the box. Production sets its own.
 */
async function localKek(dataDir: string, logger: Logger, create: boolean): Promise<void> {
  if (env.CATCHMENT_DNSSEC_KEK || env.CATCHMENT_DNSSEC_KEK_FILE) return;
  const file = join(dataDir, 'dnssec-kek');
  // A DNS server without a database makes no keys: it only uses the file of a start beside it.
  if (!create) {
    if (existsSync(file)) env.CATCHMENT_DNSSEC_KEK_FILE = file;
    return;
  }
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    logger.warn({ file }, 'no DNSSEC key-encryption key configured: created one in this file (mode 600)');
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
  env.CATCHMENT_DNSSEC_KEK_FILE = file;
}

/**
 * `catchment start`: the API, the DNS server and the controller in one process on one
 * database (PGlite by default), or the parts named by `--only`. The DNS server always runs
 * the same way: a SnapshotFollower with its last-known-good file feeds it. Publications in
 * this process (the API's, the controller's) are handed to it at once; without an API in the
 * process it also follows CATCHMENT_API_URL, so `--only dns` needs no database at all.
 */
async function startAll(parts: Set<Part>, opts: StartOptions, logger: Logger): Promise<() => Promise<void>> {
  const settings = runtimeSettings();
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => logger.error({ err }, 'stop failed'));
  };
  try {
    const needsDb = parts.has('api') || parts.has('controller');
    await localKek(settings.dataDir, logger, needsDb);
    const database = needsDb ? await openMigrated(logger) : undefined;
    if (database) stops.push(() => database.close());
    let first: Snapshot | undefined;
    if (database) {
      if (opts.demo) await seed(database, opts.config, logger);
      await publishSnapshot(database.db, { actor: 'catchment-start' });
      first = await latestSnapshot(database.db);
    }

    let dns: FollowingDns | undefined;
    const apiWhere = `${settings.apiHost}:${settings.apiPort}`;
    const apiTls = parts.has('api') ? apiTlsFromEnv() : undefined;
    const apiUrl = `${apiTls ? 'https' : 'http'}://${settings.apiHost.includes(':') ? `[${settings.apiHost}]` : settings.apiHost}:${settings.apiPort}`;
    if (parts.has('dns')) {
      const inProcessApi = parts.has('api') && database;
      const cfg = dnsEnvOptions();
      dns = await startDnsFromEnv(logger.child({ part: 'dns' }), {
        ...(inProcessApi ? { apiUrl, token: await internalDnsToken(database) } : {}),
        ...(first ? { initial: first } : {}),
        // The API of this process listens below; the follower starts polling it then.
        followLater: !!inProcessApi,
      }).catch((err) => {
        throw listenError(err, 'DNS', cfg.server.listen.map((l) => `${l.address}:${l.port}`).join(', '));
      });
      const running = dns;
      stops.push(() => running.close());
      // `systemctl reload catchment-dns`: the same as the DNS server's own main.
      const offHangup = reloadOnHangup(running, logger.child({ part: 'dns' }));
      stops.push(async () => offHangup());
      // Publications of this process (API, controller) reach the DNS server without HTTP.
      const offer = (snap: Snapshot) => {
        running.follower
          .offer(snap)
          .catch((err) => logger.error({ err }, 'dns refused the snapshot; still answering from the last one'));
      };
      publications.on('published', offer);
      stops.push(async () => void publications.off('published', offer));
      logger.info(
        { listen: cfg.server.listen, httpPort: dns.server.httpPort, snapshot: dns.server.current()?.version },
        'dns serving',
      );
    }

    if (parts.has('api') && database) {
      const geo = new GeoDb(geoOptions());
      const api: StartedApi = await startApi({
        database,
        logger: logger.child({ part: 'api' }),
        explain: createExplainer(geo),
        // POST /v1/simulate: packages/sim with the real controller, on the GeoIP files in use,
        // in a worker thread per simulation (loaded then, not at start).
        simulate: simulationWorker(geoOptions()),
        onSnapshot: (snap) => {
          dns?.follower
            .offer(snap)
            .catch((err) => logger.error({ err }, 'dns refused the snapshot; still answering from the last one'));
        },
        host: settings.apiHost,
        port: settings.apiPort,
        tls: apiTls,
        loadPublication:
          settings.loadPublishIntervalMs === null ? null : { intervalMs: settings.loadPublishIntervalMs },
      }).catch((err) => {
        throw listenError(err, 'API', apiWhere);
      });
      // Stopped after the DNS server (stops run in reverse), whose last report goes to this API.
      stops.splice(1, 0, () => api.close());
      logger.info({ url: api.url }, 'api listening');
      await dns?.follower.start();
      // Only now: whoever waits for this file can use the API at once.
      await firstAdminToken(database, settings.dataDir, logger);
    }

    if (parts.has('controller') && database) {
      // The same settings as the controller's own main (CATCHMENT_CONTROLLER_NAME, ...).
      const fromEnv = controllerEnvOptions();
      const controller: Controller = await startController({
        database,
        logger: logger.child({ part: 'controller' }),
        ...fromEnv,
      }).catch((err) => {
        throw listenError(err, 'controller', `${fromEnv.http.host}:${fromEnv.http.port}`);
      });
      stops.push(() => controller.stop());
      logger.info({ httpPort: controller.httpPort }, 'controller running');
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return stopAll;
}

/** `catchment start`: every part in this process, until SIGINT / SIGTERM. */
export async function runStart(opts: StartOptions): Promise<void> {
  const logger = createLogger('catchment');
  const only = opts.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // `dns-follower` is the old name of `--only dns` (the same DNS server, following the API).
  const parts0 = only?.map((p) => (p === 'dns-follower' ? 'dns' : p));
  // An edge agent of its own follows the API's snapshots (apps/edge/src/main.ts).
  if (only?.length === 1 && only[0] === 'edge') {
    await import('@catchment/edge/main');
    return;
  }
  const unknown = parts0?.filter((p) => !(PARTS as readonly string[]).includes(p)) ?? [];
  if (unknown.length > 0) {
    throw new CatchmentError(
      'VALIDATION_FAILED',
      `unknown part(s) ${unknown.join(', ')}; known: ${PARTS.join(', ')}, edge`,
    );
  }
  const parts = new Set<Part>((parts0 as Part[] | undefined) ?? PARTS);
  // Signals are handled from the first moment: a part can answer its health check before
  // the others have started, and a SIGTERM then must still stop everything cleanly.
  let started: Promise<() => Promise<void>> | undefined;
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      (started ?? Promise.reject(new Error('not started')))
        .then((stop) => stop())
        .then(
          () => process.exit(0),
          () => process.exit(1),
        );
    });
  }
  started = startAll(parts, opts, logger);
  await started;
  logger.info({ parts: [...parts] }, 'catchment started');
}
