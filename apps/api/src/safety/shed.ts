import type { SnapshotBody, SnapshotEdge } from '@catchment/core';

/** Utilisation above which an edge has no headroom to take traffic (capacity and coverage checks). */
export const HEADROOM_LIMIT = 0.85;

export function hasHeadroom(e: SnapshotEdge, limit = HEADROOM_LIMIT): boolean {
  return e.usable && (e.utilisation === null || e.utilisation < limit);
}

/**
 * The share (0-1) of an edge's traffic moved away in a body: DNS shift, drain/force-down
 * (all of it), withdrawn unicast prefixes (all traffic to them), DSR (its fraction of new
 * flows). The largest of these is what the edge no longer serves.
 */
export function shedShare(body: SnapshotBody, edge: string): number {
  const e = body.edges.find((x) => x.name === edge);
  if (!e) return 0;
  if (!e.usable) return 1;
  const withdrawn = body.announcements.some(
    (a) =>
      a.edge === edge &&
      a.state === 'withdrawn' &&
      body.prefixes.some((p) => p.cidr === a.prefix && p.kind === 'unicast' && p.edge === edge),
  );
  const dsr = body.dsr.find((d) => d.edge === edge);
  return Math.max(e.shiftPercent / 100, withdrawn ? 1 : 0, dsr?.enabled ? dsr.fraction / 65536 : 0);
}

export function shedEdges(body: SnapshotBody): string[] {
  return body.edges.filter((e) => shedShare(body, e.name) > 0).map((e) => e.name);
}
