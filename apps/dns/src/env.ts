import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PORTS, runtimeSettings } from '@catchment/core';
import type { DnsServerOptions } from './server.ts';

/**
 * The DNS server's settings from the environment, the same for every way it is started
 * (its own main, `catchment start`, `catchment start --only dns`):
 *   CATCHMENT_DNS_ADDRESSES, CATCHMENT_DNS_PORT, CATCHMENT_DNS_HTTP_HOST / CATCHMENT_DNS_HTTP_PORT
 *   (metrics and health, default 127.0.0.1:8453), CATCHMENT_GEOIP_CITY / _ASN / _COUNTRY,
 *   CATCHMENT_DNS_WORKERS, CATCHMENT_DNS_RRL (responses/s per client block, 0 = off),
 *   CATCHMENT_DNS_RRL_SLIP (2), CATCHMENT_DNS_QUERY_LOG_SAMPLE (1 in N; 0 = off),
 *   CATCHMENT_DNS_UDP_IO (batch | dgram), CATCHMENT_DNS_REPORT_SECONDS (60),
 *   CATCHMENT_DNS_CONSUMER (dns-<hostname>), CATCHMENT_DNS_FIRST_SNAPSHOT_MS (5000),
 *   CATCHMENT_DNS_COOKIES (on | off; default on), CATCHMENT_DNS_COOKIE_SECRET_FILE (the cookie
 *   secret, 32 hex digits, on the first line; the previous one, still accepted, on the second;
 *   re-read on SIGHUP; default: a random secret per process).
 */
export function dnsEnvOptions(env: NodeJS.ProcessEnv = process.env) {
  const settings = runtimeSettings(env);
  const num = (key: string, fallback: number) => {
    const n = env[key] ? Number(env[key]) : fallback;
    if (!Number.isFinite(n) || n < 0) throw new Error(`${key} must be a non-negative number, got "${env[key]}"`);
    return n;
  };
  const rrl = num('CATCHMENT_DNS_RRL', 0);
  const server = {
    listen: settings.dnsAddresses.map((address) => ({ address, port: settings.dnsPort })),
    geo: {
      ...(env.CATCHMENT_GEOIP_CITY ? { city: env.CATCHMENT_GEOIP_CITY } : {}),
      ...(env.CATCHMENT_GEOIP_ASN ? { asn: env.CATCHMENT_GEOIP_ASN } : {}),
      ...(env.CATCHMENT_GEOIP_COUNTRY ? { country: env.CATCHMENT_GEOIP_COUNTRY } : {}),
    },
    ...(env.CATCHMENT_DNS_WORKERS ? { workers: num('CATCHMENT_DNS_WORKERS', 0) } : {}),
    udpIo: settings.dnsUdpIo,
    ...(rrl > 0 ? { rrl: { responsesPerSecond: rrl, slip: num('CATCHMENT_DNS_RRL_SLIP', 2) } } : {}),
    queryLogSample: num('CATCHMENT_DNS_QUERY_LOG_SAMPLE', 0),
    http: {
      address: env.CATCHMENT_DNS_HTTP_HOST ?? '127.0.0.1',
      port: num('CATCHMENT_DNS_HTTP_PORT', DEFAULT_PORTS.dnsHttp),
    },
    cookies: cookiesOff(env) ? (false as const) : readCookieSecrets(env),
  } satisfies Omit<DnsServerOptions, 'snapshot' | 'reports' | 'logger'>;
  return {
    server,
    consumer: env.CATCHMENT_DNS_CONSUMER ?? `dns-${hostname()}`,
    reportIntervalMs: num('CATCHMENT_DNS_REPORT_SECONDS', 60) * 1000,
    firstSnapshotMs: num('CATCHMENT_DNS_FIRST_SNAPSHOT_MS', 5000),
    /** The last-known-good snapshot of this host's DNS server. */
    cacheFile: join(settings.dataDir, 'dns-snapshot.json'),
    apiUrl: settings.apiUrl,
    apiToken: settings.apiToken,
    apiTls: settings.apiTls,
  };
}

const cookiesOff = (env: NodeJS.ProcessEnv) => env.CATCHMENT_DNS_COOKIES === 'off';

/** DNS cookie secrets from CATCHMENT_DNS_COOKIE_SECRET_FILE: the current one first, the previous one (optional) second. */
export function readCookieSecrets(env: NodeJS.ProcessEnv = process.env): { secret?: string; previousSecret?: string } {
  const file = env.CATCHMENT_DNS_COOKIE_SECRET_FILE;
  if (!file || cookiesOff(env)) return {};
  const [secret, previousSecret] = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return { ...(secret ? { secret } : {}), ...(previousSecret ? { previousSecret } : {}) };
}
