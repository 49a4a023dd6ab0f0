import type { ActiveAction, SnapshotEdge, SnapshotPin } from '@catchment/core';

/**
 * The active `pin` actions as the snapshot carries them, oldest first (the DNS servers'
 * pin resolver lets the most specific win, then the newest). A pin of an edge that no
 * longer exists is left out: it could not answer.
 */
export function compilePins(actions: ActiveAction[], edges: Map<string, SnapshotEdge>): SnapshotPin[] {
  return actions
    .filter((a) => a.kind === 'pin' && a.edge !== null && edges.has(a.edge))
    .map((a) => {
      const p = a.params as { cidr?: string; country?: string; name?: string };
      return {
        action: a.id,
        edge: a.edge as string,
        cidr: p.cidr ?? null,
        country: p.country ?? null,
        name: p.name ?? null,
        reason: a.reason ?? '',
        expiresAt: a.expiresAt?.toISOString() ?? null,
      };
    });
}
