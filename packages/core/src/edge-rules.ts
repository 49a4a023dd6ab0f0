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

/**
 * Watermarks of DNS load spreading (NS1's Shed Load), as fractions of the edge's effective
 * threshold: below `low` × threshold no client block moves; between, a share growing with
 * utilisation moves to the next-best edges; towards `high` × threshold the share approaches
 * all of them, and no other edge's moved blocks are sent there.
 */
export const DEFAULT_WATERMARKS = { low: 0.8, high: 0.95 } as const;

type Marked = Pick<SnapshotEdge, 'shiftPercent' | 'watermarks'>;

/**
 * The share (0..1) of an edge's client blocks the watermarks move away, given the edge's
 * demand utilisation `demand` (its load with nothing moved by the watermarks) and its
 * watermarks in utilisation. The share follows NS1's line between the watermarks,
 * share = (u - low) / (high - low), on the utilisation u = demand × (1 - share) the edge
 * then carries; solved for share, so one load report moves the edge to where it settles
 * instead of swinging around it (on the measured utilisation alone, a report would move
 * many blocks, the next report would bring them back). Monotonic in `demand`; the carried
 * utilisation stays below `high` (the share reaches 1 only as demand grows without bound).
 */
export function watermarkShare(demand: number, low: number, high: number): number {
  if (!(demand > low)) return 0;
  return Math.min(1, (demand - low) / (Math.max(0, high - low) + demand));
}

/**
 * An edge's watermarks for the snapshot: in utilisation (the fractions × its threshold), its
 * estimated demand, and the percentage of its client blocks they move (whole percent, so a
 * load that moves a little does not change the answers). `inEffectPercent`: the watermark
 * percentage of the snapshot DNS answered from when the load was measured (the load then
 * excludes that share). Unknown load: nothing moves (static stability, as for headroom).
 */
export function edgeWatermarks(
  e: { capacityRps: number; loadRps: number | null; threshold: number },
  marks: { low: number; high: number },
  inEffectPercent: number,
): NonNullable<SnapshotEdge['watermarks']> {
  const low = marks.low * e.threshold;
  const high = marks.high * e.threshold;
  if (e.loadRps === null || !(e.capacityRps > 0)) return { low, high, demandRps: null, percent: 0 };
  const kept = 1 - Math.min(99, Math.max(0, inEffectPercent)) / 100;
  const demandRps = e.loadRps / kept;
  return { low, high, demandRps, percent: watermarkPercent(demandRps / e.capacityRps, low, high) };
}

/** watermarkShare in whole percent (rounded down), as snapshots carry it. */
export function watermarkPercent(demand: number, low: number, high: number): number {
  return Math.floor(100 * watermarkShare(demand, low, high));
}

/**
 * The load an edge settles at once its watermarks follow a change: the change makes it carry
 * `carriedRps` where it carried `measuredRps` (its last report), so its demand scales by the
 * same factor and the watermarks' share follows the demand. Without watermarks or a known
 * demand: `carriedRps`. packages/safety predict measures a change as settled(load) minus
 * settled(load after): a shift that lowers the demand also lets the watermarks give blocks back.
 */
export function settledLoadRps(
  e: { capacityRps: number; watermarks?: SnapshotEdge['watermarks'] },
  measuredRps: number,
  carriedRps: number,
): number {
  const w = e.watermarks;
  if (!w || w.demandRps === null || !(measuredRps > 0) || !(e.capacityRps > 0)) return carriedRps;
  const demand = (w.demandRps * Math.max(0, carriedRps)) / measuredRps;
  return demand * (1 - watermarkPercent(demand / e.capacityRps, w.low, w.high) / 100);
}

/**
 * The percentage of an edge's client blocks DNS answers with other edges: its DNS shift
 * (an action, or 100 for a drain), and the watermarks' share of the blocks the shift leaves.
 * One hash threshold for both (packages/geo isShifted), so a block moved by either stays
 * moved while either grows.
 */
export function movedPercent(e: Marked): number {
  const w = e.watermarks?.percent ?? 0;
  if (w <= 0) return e.shiftPercent;
  return Math.min(100, e.shiftPercent + (w * (100 - e.shiftPercent)) / 100);
}

/**
 * Whether an edge may receive other edges' moved load (the target rule, packages/geo
 * loadTargets): headroom, and below its high watermark: above it nothing new is sent there.
 */
export function acceptsMovedLoad(e: Loaded & Partial<Pick<SnapshotEdge, 'watermarks'>>): boolean {
  if (!hasHeadroom(e)) return false;
  const high = e.watermarks?.high;
  if (high === undefined || e.loadRps === null || !(e.capacityRps > 0)) return true;
  return e.loadRps / e.capacityRps < high;
}
