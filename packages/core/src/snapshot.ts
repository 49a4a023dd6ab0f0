import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import { CatchmentError } from './errors.ts';
import { Snapshot, type SnapshotAnnouncement, type SnapshotBody } from './snapshot-schema.ts';
import { assertSchema } from './validate.ts';

/** Canonical JSON (sorted keys): the same body always gives the same checksum. */
export function canonicalJson(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new Error('value cannot be serialised');
  return text;
}

export function bodyChecksum(body: SnapshotBody): string {
  return `sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
}

export function sealSnapshot(version: number, body: SnapshotBody, createdAt = new Date()): Snapshot {
  return { schema: 1, version, createdAt: createdAt.toISOString(), checksum: bodyChecksum(body), body };
}

/**
 * What every consumer does before it swaps a snapshot in: schema, then checksum.
 * Throws SNAPSHOT_INVALID with the reasons; never returns a half-checked document.
 */
export function verifySnapshot(value: unknown): Snapshot {
  const snap = assertSchema(Snapshot, value, 'SNAPSHOT_INVALID', 'snapshot');
  const actual = bodyChecksum(snap.body);
  if (actual !== snap.checksum) {
    throw new CatchmentError('SNAPSHOT_INVALID', `snapshot v${snap.version} checksum mismatch`, {
      details: { expected: snap.checksum, actual },
    });
  }
  return snap;
}

/** Snapshot lookups that consumers need often. */
export function edgeByName(body: SnapshotBody, name: string) {
  return body.edges.find((e) => e.name === name);
}

/**
 * Every community an announcement carries on some session: its own and each transit's. What an
 * agent standing for all of an edge's sessions reports exported (the simulator's, tests' agents).
 */
export function announcementCommunities(a: Pick<SnapshotAnnouncement, 'communities' | 'transitCommunities'>): string[] {
  return [...new Set([...a.communities, ...Object.values(a.transitCommunities ?? {}).flat()])].sort();
}
