import { hostname } from 'node:os';
import { join } from 'node:path';
import { runtimeSettings } from '@catchment/core';
import type { DnsServerOptions } from './server.ts';

/**
 * The DNS server's settings from the environment, the same for every way it is started
 * (its own main, `catchment start`, `catchment start --only dns`):
 *   CATCHMENT_DNS_ADDRESSES, CATCHMENT_DNS_PORT, CATCHMENT_DNS_HTTP_HOST / CATCHMENT_DNS_HTTP_PORT
 *   (metrics and health, default 127.0.0.1:9153), CATCHMENT_GEOIP_CITY / _ASN / _COUNTRY,
 *   CATCHMENT_DNS_WORKERS, CATCHMENT_DNS_RRL (responses/s per client block, 0 = off),
 *   CATCHMENT_DNS_RRL_SLIP (2), CATCHMENT_DNS_QUERY_LOG_SAMPLE (1 in N; 0 = off),
 *   CATCHMENT_DNS_UDP_IO (batch | dgram), CATCHMENT_DNS_REPORT_SECONDS (60),
 *   CATCHMENT_DNS_CONSUMER (dns-<hostname>), CATCHMENT_DNS_FIRST_SNAPSHOT_MS (5000).
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
    http: { address: env.CATCHMENT_DNS_HTTP_HOST ?? '127.0.0.1', port: num('CATCHMENT_DNS_HTTP_PORT', 9153) },
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
  };
}
