/**
 * Standalone DNS server: follows the published snapshot from the API (long-poll by version,
 * verified, last-known-good on disk) and answers from it; starts from the cached file when
 * the API is down. SIGHUP re-reads the GeoIP files; SIGTERM/SIGINT stop gracefully.
 * Settings come from the environment (see README):
 *   CATCHMENT_API_URL, CATCHMENT_API_TOKEN, CATCHMENT_DNS_ADDRESSES, CATCHMENT_DNS_PORT,
 *   CATCHMENT_DATA_DIR, CATCHMENT_DNS_HTTP_PORT (metrics/health, default 8453),
 *   CATCHMENT_GEOIP_CITY, CATCHMENT_GEOIP_ASN, CATCHMENT_GEOIP_COUNTRY, CATCHMENT_DNS_WORKERS,
 *   CATCHMENT_DNS_RRL (responses/s per client block, 0 = off), CATCHMENT_DNS_RRL_SLIP (2),
 *   CATCHMENT_DNS_REPORT_SECONDS (60), CATCHMENT_DNS_QUERY_LOG_SAMPLE (log 1 in N queries; 0 = off),
 *   CATCHMENT_DNS_UDP_IO (batch | dgram; default batch),
 *   CATCHMENT_DNS_COOKIES (on | off; default on), CATCHMENT_DNS_COOKIE_SECRET_FILE (the cookie
 *   secret, 32 hex digits, on the first line; the previous one, still accepted, on the second;
 *   re-read on SIGHUP; default: a random secret per process).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createLogger, DEFAULT_PORTS, runtimeSettings, SnapshotFollower } from '@catchment/core';
import { createDnsServer } from './server.ts';

const log = createLogger('dns');
const settings = runtimeSettings();
const env = process.env;
const num = (key: string, fallback: number) => (env[key] ? Number(env[key]) : fallback);

const follower = new SnapshotFollower({
  apiUrl: settings.apiUrl,
  token: settings.apiToken,
  cacheFile: join(settings.dataDir, 'dns-snapshot.json'),
  logger: log,
});
await follower.start();
const first = await follower.ready(num('CATCHMENT_DNS_FIRST_SNAPSHOT_MS', 5000));
if (!first) log.warn('no snapshot yet (API unreachable and no cached file): answering SERVFAIL until one arrives');

const rrl = num('CATCHMENT_DNS_RRL', 0);
const secretFile = env.CATCHMENT_DNS_COOKIE_SECRET_FILE;
/** Cookie secrets from the file: the current one first, the previous one (optional) second. */
const readSecrets = () => {
  if (!secretFile) return {};
  const [secret, previousSecret] = readFileSync(secretFile, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return { secret, previousSecret };
};
let secrets = readSecrets();
const server = await createDnsServer({
  listen: settings.dnsAddresses.map((address) => ({ address, port: settings.dnsPort })),
  geo: { city: env.CATCHMENT_GEOIP_CITY, asn: env.CATCHMENT_GEOIP_ASN, country: env.CATCHMENT_GEOIP_COUNTRY },
  workers: env.CATCHMENT_DNS_WORKERS ? Number(env.CATCHMENT_DNS_WORKERS) : undefined,
  udpIo: settings.dnsUdpIo,
  snapshot: first,
  rrl: rrl > 0 ? { responsesPerSecond: rrl, slip: num('CATCHMENT_DNS_RRL_SLIP', 2) } : undefined,
  cookies: env.CATCHMENT_DNS_COOKIES === 'off' ? false : secrets,
  queryLogSample: num('CATCHMENT_DNS_QUERY_LOG_SAMPLE', 0),
  http: {
    address: env.CATCHMENT_DNS_HTTP_HOST ?? '127.0.0.1',
    port: num('CATCHMENT_DNS_HTTP_PORT', DEFAULT_PORTS.dnsHttp),
  },
  reports: {
    apiUrl: settings.apiUrl,
    token: settings.apiToken,
    consumer: env.CATCHMENT_DNS_CONSUMER ?? `dns-${hostname()}`,
    intervalMs: num('CATCHMENT_DNS_REPORT_SECONDS', 60) * 1000,
  },
  logger: log,
});
const swap = (snap: typeof first) => {
  if (!snap || snap.version === server.current()?.version) return;
  server.setSnapshot(snap).catch((err) => log.error({ err }, 'snapshot rejected; still answering from the last one'));
};
follower.on('snapshot', swap);
// A version that arrived while the server was starting.
swap(follower.current());
log.info({ addresses: settings.dnsAddresses, port: settings.dnsPort, httpPort: server.httpPort }, 'dns server ready');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  await follower.stop();
  await server.close();
  process.exit(0);
};
process.on('SIGHUP', () => {
  server.reload().catch((err) => log.error({ err }, 'reload failed; still answering from the current tables'));
  if (secretFile && env.CATCHMENT_DNS_COOKIES !== 'off') {
    try {
      const next = readSecrets();
      if (next.secret !== secrets.secret || next.previousSecret !== secrets.previousSecret) {
        secrets = next;
        // Without a previous secret in the file, the one in use until now stays accepted.
        void server.setCookieSecrets(next).catch((err) => log.error({ err }, 'cookie secret rotation failed'));
      }
    } catch (err) {
      log.error({ err }, 'cookie secret file unreadable; keeping the current secrets');
    }
  }
});
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
