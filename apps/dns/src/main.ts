/**
 * Standalone DNS server (also `catchment start --only dns`): follows the published snapshot
 * from the API (long-poll by version, verified, last-known-good on disk) and answers from it;
 * starts from the cached file when the API is down. SIGHUP re-reads the GeoIP files;
 * SIGTERM/SIGINT stop gracefully. Settings come from the environment: CATCHMENT_API_URL,
 * CATCHMENT_API_TOKEN, CATCHMENT_DATA_DIR and those listed in src/env.ts.
 */
import { createLogger } from '@catchment/core';
import { reloadOnHangup } from './hangup.ts';
import { startDnsFromEnv } from './standalone.ts';

const log = createLogger('dns');
const dns = await startDnsFromEnv(log);
log.info({ httpPort: dns.server.httpPort }, 'dns server ready');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  await dns.close();
  process.exit(0);
};
reloadOnHangup(dns, log);
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
