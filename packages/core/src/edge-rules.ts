import type { SnapshotEdge } from './snapshot-schema.ts';

/**
 * The domain predicates on an edge, next to the snapshot's edge type, so the DNS server,
 * the API, the controller and the routing rules judge "usable" and "headroom" the same
 * way (one rule in one place).
 */

/** Utilisation an edge may reach as a target of moved load when no utilisation SLO says otherwise. */
export const DEFAULT_UTILISATION_THRESHOLD = 0.85;

/** A load report older than this is ignored: the edge's load is then unknown. */
export const DEFAULT_LOAD_STALE_MS = 120_000;

type Status = Pick<SnapshotEdge, 'state' | 'override'>;
type Loaded = Pick<SnapshotEdge, 'state' | 'override' | 'capacityRps' | 'loadRps' | 'threshold'>;

/** Whether DNS may answer with the edge and it may receive load: active (or forced up) and not overridden away. */
export function edgeUsable(e: Status): boolean {
  if (e.override === 'force-down' || e.override === 'drain') return false;
  if (e.override === 'force-up') return true;
  return e.state === 'active';
}

/**
 * Requests/s the edge can still take before it reaches its threshold (never negative). An
 * unknown load (never reported, or stale) counts as none: DNS keeps steering by capacity
 * when reports are missing (static stability); moving load onto such an edge is refused
 * by the capacity rule, which needs a known load.
 */
export function headroomRps(e: Loaded): number {
  return Math.max(0, e.threshold * e.capacityRps - (e.loadRps ?? 0));
}

/** Whether the edge may take more clients: usable and below its threshold (unknown load counts as below). */
export function hasHeadroom(e: Loaded): boolean {
  return edgeUsable(e) && headroomRps(e) > 0;
}

/**
 * The effective SLO threshold of an edge: the lowest enter threshold of its own
 * utilisation SLOs, else the lowest of the global ones, else the default. The minimum
 * is the safe choice when several SLOs apply.
 */
export function effectiveThreshold(
  edge: string,
  slos: readonly { edge?: string | null; metric: string; enter: number }[],
): number {
  const lowest = (rows: { enter: number }[]) => (rows.length > 0 ? Math.min(...rows.map((r) => r.enter)) : undefined);
  const util = slos.filter((s) => s.metric === 'utilisation');
  return (
    lowest(util.filter((s) => s.edge === edge)) ??
    lowest(util.filter((s) => s.edge === undefined || s.edge === null)) ??
    DEFAULT_UTILISATION_THRESHOLD
  );
}

/** Whether an action row is in force at `now`: not reverted, not expired. */
export function actionActive(a: { revertedAt: Date | null; expiresAt: Date | null }, now: Date): boolean {
  return a.revertedAt === null && (a.expiresAt === null || a.expiresAt.getTime() > now.getTime());
}

/** The order in which actions apply (a later one of the same kind wins): creation time, then id. */
export function byActionOrder(a: { createdAt: Date; id: number }, b: { createdAt: Date; id: number }): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id;
}
