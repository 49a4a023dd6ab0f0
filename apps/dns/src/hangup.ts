import type { Logger } from '@catchment/core';
import { readCookieSecrets } from './env.ts';
import type { FollowingDns } from './follow.ts';

/**
 * What SIGHUP does to a running DNS server (its own main and `catchment start` alike, so
 * `systemctl reload catchment-dns` works): re-read the GeoIP files and rotate the DNS cookie
 * secrets from CATCHMENT_DNS_COOKIE_SECRET_FILE. Any failure keeps the server answering as before.
 */
export function reloadOnHangup(dns: FollowingDns, log: Logger): () => void {
  const onHangup = () => {
    log.info('SIGHUP: reloading GeoIP files and cookie secrets');
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
  };
  process.on('SIGHUP', onHangup);
  return () => void process.off('SIGHUP', onHangup);
}
