import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createToken, type StartedApi, startApi } from '@catchment/api';
import { type Controller, startController } from '@catchment/controller';
import {
  CatchmentError,
  createLogger,
  DEFAULT_PORTS,
  type Logger,
  loadConfigFile,
  runtimeSettings,
  type Snapshot,
} from '@catchment/core';
import { type Database, importConfig, latestSnapshot, publishSnapshot, schema } from '@catchment/db';
import { createDnsServer, type DnsServer } from '@catchment/dns';
import { createExplainer, GeoDb, type GeoOptions } from '@catchment/geo';
import { and, count, eq, isNull } from 'drizzle-orm';
import { openMigrated } from '../database.ts';

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

/**
 * The DNSSEC key-encryption key of a single-machine start: when neither CATCHMENT_DNSSEC_KEK nor
 * CATCHMENT_DNSSEC_KEK_FILE is set, a random one in `<data dir>/dnssec-kek` (mode 600), made on
 * the first start, so the demo zone is signed out of the box. Production sets its own.
 */
async function localKek(dataDir: string, logger: Logger): Promise<void> {
  if (env.CATCHMENT_DNSSEC_KEK || env.CATCHMENT_DNSSEC_KEK_FILE) return;
  const file = join(dataDir, 'dnssec-kek');
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    logger.warn({ file }, 'no DNSSEC key-encryption key configured: created one in this file (mode 600)');
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
  env.CATCHMENT_DNSSEC_KEK_FILE = file;
}

function geoOptions(): GeoOptions {
  return {
    ...(env.CATCHMENT_GEOIP_CITY ? { city: env.CATCHMENT_GEOIP_CITY } : {}),
    ...(env.CATCHMENT_GEOIP_ASN ? { asn: env.CATCHMENT_GEOIP_ASN } : {}),
    ...(env.CATCHMENT_GEOIP_COUNTRY ? { country: env.CATCHMENT_GEOIP_COUNTRY } : {}),
  };
}

/**
 * `catchment start`: the API, the DNS server and the controller in one process on one
 * database (PGlite by default). The DNS server gets each snapshot the moment it is
 * published, in process; separately run parts follow the API instead.
 */
async function startAll(parts: Set<Part>, opts: StartOptions, logger: Logger): Promise<() => Promise<void>> {
  const settings = runtimeSettings();
  const database = await openMigrated(logger);
  const stops: (() => Promise<void>)[] = [() => database.close()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => logger.error({ err }, 'stop failed'));
  };
  try {
    await localKek(settings.dataDir, logger);
    if (opts.demo) await seed(database, opts.config, logger);
    await publishSnapshot(database.db, { actor: 'catchment-start' });
    const first: Snapshot | undefined = await latestSnapshot(database.db);

    let dns: DnsServer | undefined;
    const apiWhere = `${settings.apiHost}:${settings.apiPort}`;
    if (parts.has('dns')) {
      const listen = settings.dnsAddresses.map((address) => ({ address, port: settings.dnsPort }));
      const httpPort = Number(env.CATCHMENT_DNS_HTTP_PORT ?? DEFAULT_PORTS.dnsHttp);
      const reportSeconds = Number(env.CATCHMENT_DNS_REPORT_SECONDS ?? 60);
      dns = await createDnsServer({
        listen,
        geo: geoOptions(),
        ...(env.CATCHMENT_DNS_WORKERS ? { workers: Number(env.CATCHMENT_DNS_WORKERS) } : {}),
        udpIo: settings.dnsUdpIo,
        ...(first ? { snapshot: first } : {}),
        http: { address: env.CATCHMENT_DNS_HTTP_HOST ?? '127.0.0.1', port: httpPort },
        ...(parts.has('api')
          ? {
              reports: {
                apiUrl: `http://${settings.apiHost.includes(':') ? `[${settings.apiHost}]` : settings.apiHost}:${settings.apiPort}`,
                token: await internalDnsToken(database),
                consumer: `dns-${hostname()}`,
                intervalMs: reportSeconds * 1000,
              },
            }
          : {}),
        logger: logger.child({ part: 'dns' }),
      }).catch((err) => {
        throw listenError(err, 'DNS', listen.map((l) => `${l.address}:${l.port}`).join(', '));
      });
      stops.push(() => (dns as DnsServer).close());
      logger.info({ listen, httpPort: dns.httpPort, snapshot: first?.version }, 'dns serving');
    }

    if (parts.has('api')) {
      const geo = new GeoDb(geoOptions());
      const api: StartedApi = await startApi({
        database,
        logger: logger.child({ part: 'api' }),
        explain: createExplainer(geo),
        onSnapshot: (snap) => {
          dns
            ?.setSnapshot(snap)
            .catch((err) => logger.error({ err }, 'dns refused the snapshot; still answering from the last one'));
        },
        host: settings.apiHost,
        port: settings.apiPort,
      }).catch((err) => {
        throw listenError(err, 'API', apiWhere);
      });
      // Stopped after the DNS server (stops run in reverse), whose last report goes to this API.
      stops.splice(1, 0, () => api.close());
      logger.info({ url: api.url }, 'api listening');
      // Only now: whoever waits for this file can use the API at once.
      await firstAdminToken(database, settings.dataDir, logger);
    }

    if (parts.has('controller')) {
      const port = Number(env.CATCHMENT_CONTROLLER_PORT ?? DEFAULT_PORTS.controllerHttp);
      const controller: Controller = await startController({
        database,
        logger: logger.child({ part: 'controller' }),
        ...(env.CATCHMENT_PROMETHEUS_URL ? { prometheusUrl: env.CATCHMENT_PROMETHEUS_URL } : {}),
        ...(env.CATCHMENT_WEBHOOK_URL ? { webhookUrl: env.CATCHMENT_WEBHOOK_URL } : {}),
        http: { host: env.CATCHMENT_CONTROLLER_HOST ?? '127.0.0.1', port },
      }).catch((err) => {
        throw listenError(err, 'controller', `127.0.0.1:${port}`);
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
  // A DNS server or edge agent of its own follows the API's snapshots (apps/*/src/main.ts).
  if (only?.length === 1 && only[0] === 'dns-follower') {
    await import('@catchment/dns/main');
    return;
  }
  if (only?.length === 1 && only[0] === 'edge') {
    await import('@catchment/edge/main');
    return;
  }
  const unknown = only?.filter((p) => !(PARTS as readonly string[]).includes(p)) ?? [];
  if (unknown.length > 0) {
    throw new CatchmentError(
      'VALIDATION_FAILED',
      `unknown part(s) ${unknown.join(', ')}; known: ${PARTS.join(', ')}, dns-follower, edge`,
    );
  }
  const parts = new Set<Part>((only as Part[] | undefined) ?? PARTS);
  const stop = await startAll(parts, opts, logger);
  logger.info({ parts: [...parts] }, 'catchment started');
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
