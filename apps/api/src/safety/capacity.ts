import type { SnapshotBody, SnapshotEdge } from '@catchment/core';
import type { Refusal } from './index.ts';
import { HEADROOM_LIMIT, hasHeadroom, shedShare } from './shed.ts';

export interface PredictedLoad {
  edge: string;
  loadRps: number;
  predictedRps: number;
  predictedUtilisation: number;
}

/**
 * Predicts where moved load lands: each edge whose shed share grows moves
 * `load × growth` onto its targets (its explicit shift targets, else every other usable
 * edge with headroom), split by spare capacity. Edges without a reported load move
 * nothing predictable and are skipped.
 */
export function predictLoads(before: SnapshotBody, after: SnapshotBody): PredictedLoad[] {
  const extra = new Map<string, number>();
  for (const e of after.edges) {
    const growth = shedShare(after, e.name) - shedShare(before, e.name);
    const was = before.edges.find((x) => x.name === e.name);
    const load = was?.loadRps ?? e.loadRps;
    if (growth <= 0 || load === null) continue;
    const named = e.shiftTargets.length > 0 ? new Set(e.shiftTargets) : undefined;
    const targets = after.edges.filter(
      (o: SnapshotEdge) => o.name !== e.name && (named ? named.has(o.name) && o.usable : hasHeadroom(o)),
    );
    const spare = (o: SnapshotEdge) => Math.max(0, o.capacityRps - (o.loadRps ?? 0));
    const totalSpare = targets.reduce((s, o) => s + spare(o), 0);
    for (const o of targets) {
      const share = totalSpare > 0 ? spare(o) / totalSpare : 1 / targets.length;
      extra.set(o.name, (extra.get(o.name) ?? 0) + load * growth * share);
    }
  }
  return [...extra].map(([edge, moved]) => {
    const e = after.edges.find((x) => x.name === edge) as SnapshotEdge;
    const loadRps = e.loadRps ?? 0;
    return {
      edge,
      loadRps,
      predictedRps: loadRps + moved,
      predictedUtilisation: (loadRps + moved) / e.capacityRps,
    };
  });
}

/** Safety rule 4, capacity: refused when any target would exceed its utilisation limit (its SLO threshold). */
export function checkCapacity(
  before: SnapshotBody,
  after: SnapshotBody,
  limitOf: (edge: string) => number = () => HEADROOM_LIMIT,
): Refusal | undefined {
  const predicted = predictLoads(before, after).map((p) => ({ ...p, limit: limitOf(p.edge) }));
  const over = predicted.filter((p) => p.predictedUtilisation > p.limit);
  if (over.length === 0) return undefined;
  return {
    rule: 'capacity',
    message: over
      .map(
        (p) =>
          `${p.edge} would reach ${(100 * p.predictedUtilisation).toFixed(0)} % of capacity (limit ${(100 * p.limit).toFixed(0)} %)`,
      )
      .join('; '),
    details: { predicted },
  };
}
