import { EventEmitter } from 'node:events';
import { loadKek, type Snapshot, type SnapshotBody, sealSnapshot, verifySnapshot } from '@catchment/core';
import { desc, eq, sql } from 'drizzle-orm';
import { compileSnapshot } from './compile.ts';
import type { Db } from './connection.ts';
import { ensureZoneKeys } from './dnssec.ts';
import { snapshots } from './schema.ts';

/** In-process publication events, e.g. for a DNS server running in the same process. */
export const publications = new EventEmitter<{ published: [Snapshot] }>();

export async function latestSnapshot(db: Pick<Db, 'select'>): Promise<Snapshot | undefined> {
  const [row] = await db.select().from(snapshots).orderBy(desc(snapshots.version)).limit(1);
  return row ? toSnapshot(row) : undefined;
}

export async function snapshotByVersion(db: Pick<Db, 'select'>, version: number): Promise<Snapshot | undefined> {
  const [row] = await db.select().from(snapshots).where(eq(snapshots.version, version));
  return row ? toSnapshot(row) : undefined;
}

function toSnapshot(row: typeof snapshots.$inferSelect): Snapshot {
  return {
    schema: 1,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    checksum: row.checksum,
    body: row.body as Snapshot['body'],
  };
}

const PUBLISH_LOCK = 0x43617470;

/**
 * The PostgreSQL notification channel of new versions (payload: the version). Sent inside the
 * publishing transaction, so it is delivered at commit, to every API instance on the database.
 */
export const SNAPSHOT_CHANNEL = 'catchment_snapshot';

/**
 * Compiles the current state and publishes it as the next version when it differs
 * from the latest one. Publishers (API and controller replicas) serialise on an
 * advisory lock, so each compiles from the state the previous one committed; the
 * version primary key refuses a duplicate in any case. The new snapshot is verified
 * exactly as consumers will verify it before it is stored.
 */
export async function publishSnapshot(
  db: Db,
  /** kek: the DNSSEC key-encryption key for new keys (default: loadKek() from the environment). */
  opts: {
    actor: string;
    now?: Date;
    kek?: Buffer;
    loadStaleMs?: number;
    /**
     * Publish only when this says the new body differs from the latest in what matters (a
     * load-only publication: packages/geo steeringChanged); not called without a latest.
     */
    onlyIf?: (latest: SnapshotBody, next: SnapshotBody) => boolean;
  },
): Promise<{ snapshot: Snapshot; published: boolean }> {
  const result = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${PUBLISH_LOCK})`);
    // A signed zone gets its first keys here, so that no snapshot names a signed zone without keys.
    await ensureZoneKeys(tx as unknown as Db, opts.kek ?? loadKek());
    const body = await compileSnapshot(tx as unknown as Db, opts.now, {
      ...(opts.loadStaleMs !== undefined ? { loadStaleMs: opts.loadStaleMs } : {}),
    });
    const [latest] = await tx
      .select({ version: snapshots.version, checksum: snapshots.checksum, createdAt: snapshots.createdAt })
      .from(snapshots)
      .orderBy(desc(snapshots.version))
      .limit(1);
    const candidate = sealSnapshot((latest?.version ?? 0) + 1, body, opts.now);
    const unchanged = async (version: number, checksum: string) => {
      if (checksum === candidate.checksum) return true;
      if (!opts.onlyIf) return false;
      const [row] = await tx.select({ body: snapshots.body }).from(snapshots).where(eq(snapshots.version, version));
      return row !== undefined && !opts.onlyIf(row.body as SnapshotBody, body);
    };
    if (latest && (await unchanged(latest.version, latest.checksum))) {
      return {
        snapshot: { ...candidate, version: latest.version, createdAt: latest.createdAt.toISOString() },
        published: false,
      };
    }
    verifySnapshot(candidate);
    await tx.insert(snapshots).values({
      version: candidate.version,
      checksum: candidate.checksum,
      body: candidate.body,
      createdBy: opts.actor,
      createdAt: new Date(candidate.createdAt),
    });
    await tx.execute(sql`select pg_notify(${SNAPSHOT_CHANNEL}, ${String(candidate.version)})`);
    return { snapshot: candidate, published: true };
  });
  if (result.published) publications.emit('published', result.snapshot);
  return result;
}
