/**
 * Standalone DNS server (also `catchment start --only dns`): follows the published snapshot
 * from the API (long-poll by version, verified, last-known-good on disk) and answers from it;
 * starts from the cached file when the API is down. SIGHUP re-reads the GeoIP files;
 * SIGTERM/SIGINT stop gracefully. Settings come from the environment: CATCHMENT_API_URL,
 * CATCHMENT_API_TOKEN, CATCHMENT_DATA_DIR and those listed in src/env.ts.
 */
import { createLogger } from '@catchment/core';
import { readCookieSecrets } from './env.ts';
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
process.on('SIGHUP', () => {
  dns.server.reload().catch((err) => log.error({ err }, 'reload failed; still answering from the current tables'));
  // New cookie secrets from the file; without a previous one in it, the one in use stays accepted.
  if (process.env.CATCHMENT_DNS_COOKIE_SECRET_FILE && process.env.CATCHMENT_DNS_COOKIES !== 'off') {
    try {
      const next = readCookieSecrets();
      if (next.secret) {
        void dns.server.setCookieSecrets(next).catch((err) => log.error({ err }, 'cookie secret rotation failed'));
      }
    } catch (err) {
      log.error({ err }, 'cookie secret file unreadable; keeping the current secrets');
    }
  }
});
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
