import { resolve } from 'node:path';
import { durationProblem, parseDuration } from './duration.ts';
import { DEFAULT_WATERMARKS } from './edge-rules.ts';
import type { SnapshotSettings } from './snapshot-schema.ts';

/** Defaults of the safety settings (overridable in the configuration file). */
export const DEFAULT_SETTINGS: SnapshotSettings = {
  coverageMinAnnouncers: 2,
  maxEdgesShed: 2,
  maxCapacityShedPercent: 30,
  routeChangesPerPrefixPerHour: 6,
  maxAnnounceLengthV4: 24,
  maxAnnounceLengthV6: 48,
  ecsTrustedResolvers: [],
  watermarks: { ...DEFAULT_WATERMARKS },
};

/** Process settings from the environment; every value has an embedded default. */
export interface RuntimeSettings {
  /** postgres:// URL; when absent the embedded PGlite database in `dataDir` is used. */
  databaseUrl: string | undefined;
  dataDir: string;
  apiHost: string;
  apiPort: number;
  dnsAddresses: string[];
  dnsPort: number;
  /** UDP socket I/O of the DNS server: batched system calls (native addon) or Node's dgram. */
  dnsUdpIo: 'batch' | 'dgram';
  /** URL of the API for separate DNS / edge processes; a comma-separated list fails over in order. */
  apiUrl: string;
  apiToken: string | undefined;
  /** CA that the API's certificate must chain to, and this consumer's client certificate (files). */
  apiTls: { ca: string | undefined; cert: string | undefined; key: string | undefined };
  /**
   * Shortest time between two publications caused by load reports alone (DNS load spreading),
   * CATCHMENT_LOAD_PUBLISH_INTERVAL (a duration, default 10s; `off`: load reports publish nothing).
   */
  loadPublishIntervalMs: number | null;
}

function loadIntervalEnv(raw: string | undefined): number | null {
  if (raw === undefined || raw === '') return 10_000;
  if (raw === 'off') return null;
  const problem = durationProblem(raw);
  if (problem) throw new Error(`CATCHMENT_LOAD_PUBLISH_INTERVAL: ${problem} (or "off")`);
  return parseDuration(raw);
}

function intEnv(env: NodeJS.ProcessEnv, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new Error(`${key} must be an integer port number, got "${raw}"`);
  }
  return n;
}

function udpIoEnv(raw: string | undefined): 'batch' | 'dgram' {
  if (raw === undefined || raw === '' || raw === 'batch') return 'batch';
  if (raw === 'dgram') return 'dgram';
  throw new Error(`CATCHMENT_DNS_UDP_IO must be "batch" or "dgram", got "${raw}"`);
}

export function runtimeSettings(env: NodeJS.ProcessEnv = process.env): RuntimeSettings {
  const apiHost = env.CATCHMENT_API_HOST ?? '127.0.0.1';
  const apiPort = intEnv(env, 'CATCHMENT_API_PORT', 8080);
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: resolve(env.CATCHMENT_DATA_DIR ?? '.data'),
    apiHost,
    apiPort,
    dnsAddresses: (env.CATCHMENT_DNS_ADDRESSES ?? '127.0.0.1')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    dnsPort: intEnv(env, 'CATCHMENT_DNS_PORT', 5353),
    dnsUdpIo: udpIoEnv(env.CATCHMENT_DNS_UDP_IO),
    apiUrl: env.CATCHMENT_API_URL ?? `http://${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${apiPort}`,
    apiToken: env.CATCHMENT_API_TOKEN || undefined,
    apiTls: {
      ca: env.CATCHMENT_API_CA || undefined,
      cert: env.CATCHMENT_API_CLIENT_CERT || undefined,
      key: env.CATCHMENT_API_CLIENT_KEY || undefined,
    },
    loadPublishIntervalMs: loadIntervalEnv(env.CATCHMENT_LOAD_PUBLISH_INTERVAL),
  };
}
