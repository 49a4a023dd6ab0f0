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
  const follower = new SnapshotFollower({ apiUrl, token, cacheFile: cfg.cacheFile, logger });
  if (o.initial) await follower.offer(o.initial);
  if (!o.followLater) await follower.start();
  return startFollowingDns(follower, {
    ...cfg.server,
    firstSnapshotMs: o.followLater ? 0 : cfg.firstSnapshotMs,
    reports: { apiUrl, ...(token ? { token } : {}), consumer: cfg.consumer, intervalMs: cfg.reportIntervalMs },
    logger,
  });
}
