import type { Logger, Snapshot, SnapshotFollower } from '@catchment/core';
import { createDnsServer, type DnsServer, type DnsServerOptions } from './server.ts';

export interface FollowingDns {
  server: DnsServer;
  follower: SnapshotFollower;
  close(): Promise<void>;
}

/**
 * A DNS server fed by a SnapshotFollower: however it is started, it answers from the newest
 * version the follower accepted (from the API, from a publication in the same process via
 * `follower.offer`, or from the last-known-good file) and keeps answering from it whatever
 * happens upstream. Waits up to `firstSnapshotMs` for a first snapshot before listening.
 */
export async function startFollowingDns(
  follower: SnapshotFollower,
  opts: Omit<DnsServerOptions, 'snapshot'> & { firstSnapshotMs: number; logger: Logger },
): Promise<FollowingDns> {
  const log = opts.logger;
  const first = await follower.ready(opts.firstSnapshotMs);
  if (!first) log.warn('no snapshot yet (API unreachable and no cached file): answering SERVFAIL until one arrives');
  let server: DnsServer;
  try {
    server = await createDnsServer({ ...opts, ...(first ? { snapshot: first } : {}) });
  } catch (err) {
    await follower.stop();
    throw err;
  }
  const swap = (snap: Snapshot | undefined) => {
    if (!snap || snap.version <= (server.current()?.version ?? 0)) return;
    server.setSnapshot(snap).catch((err) => log.error({ err }, 'snapshot rejected; still answering from the last one'));
  };
  follower.on('snapshot', swap);
  // A version that arrived while the server was starting.
  swap(follower.current());
  return {
    server,
    follower,
    async close() {
      follower.off('snapshot', swap);
      await follower.stop();
      await server.close();
    },
  };
}
