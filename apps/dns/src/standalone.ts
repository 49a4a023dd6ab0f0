import { ApiClient } from '@catchment/api-client';
import { type Logger, type Snapshot, SnapshotFollower } from '@catchment/core';
import { dnsEnvOptions } from './env.ts';
import { type FollowingDns, startFollowingDns } from './follow.ts';

export interface DnsFromEnvOptions {
  /** The API to follow and report to (default CATCHMENT_API_URL / CATCHMENT_API_TOKEN). */
  apiUrl?: string;
  token?: string;
  /** A snapshot this process already has (its database's latest): answered from at once. */
  initial?: Snapshot;
  /** Start long-polling only when the caller calls `follower.start()` (an API in the same process that is not listening yet). */
  followLater?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * The DNS server as every start runs it: settings from the environment, a SnapshotFollower
 * of the API with the last-known-good file in CATCHMENT_DATA_DIR, reports to the same API.
 */
export async function startDnsFromEnv(logger: Logger, o: DnsFromEnvOptions = {}): Promise<FollowingDns> {
  const cfg = dnsEnvOptions(o.env);
  const apiUrl = o.apiUrl ?? cfg.apiUrl;
  const token = o.token ?? cfg.apiToken;
  // One client for the snapshot and the reports: they fail over together and share TLS settings.
  const client = new ApiClient({
    urls: apiUrl,
    token,
    tls: cfg.apiTls,
    onFailover: (from, to, reason) => logger.warn({ from, to, reason }, 'API unreachable; trying the next API URL'),
  });
  const follower = new SnapshotFollower({ client, cacheFile: cfg.cacheFile, logger });
  if (o.initial) await follower.offer(o.initial);
  if (!o.followLater) await follower.start();
  const dns = await startFollowingDns(follower, {
    ...cfg.server,
    firstSnapshotMs: o.followLater ? 0 : cfg.firstSnapshotMs,
    reports: { client, consumer: cfg.consumer, intervalMs: cfg.reportIntervalMs },
    logger,
  });
  return {
    ...dns,
    async close() {
      await dns.close();
      client.close();
    },
  };
}
