import type { SnapshotBody, SnapshotEdge } from '@catchment/core';
import { shiftTargets } from '@catchment/geo';
import type { LoadMove } from '@catchment/safety';

// The load a change moves, predicted from the two compiled snapshot bodies: the input
// that packages/safety's capacity rule judges (`moves`), not a rule of its own.

/**
 * The share (0-1) of an edge's traffic moved away in a body: DNS shift, drain/force-down
 * (all of it), withdrawn unicast prefixes (all traffic to them), DSR (its fraction of new
 * flows). The largest of these is what the edge no longer serves.
 */
function shedShare(body: SnapshotBody, edge: string): number {
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

export interface PredictedLoad {
  edge: string;
  loadRps: number;
  predictedRps: number;
  predictedUtilisation: number;
}

/**
 * Predicts where moved load lands: each edge whose shed share grows moves
 * `load × growth` onto its targets (its explicit shift targets, else the nearest usable
 * edges with room for it, as DNS picks them), split by spare capacity. Edges without a reported load move
 * nothing predictable and are skipped.
 */
export function predictLoads(before: SnapshotBody, after: SnapshotBody): PredictedLoad[] {
  const extra = new Map<string, number>();
  for (const e of after.edges) {
    const growth = shedShare(after, e.name) - shedShare(before, e.name);
    const was = before.edges.find((x) => x.name === e.name);
    const load = was?.loadRps ?? e.loadRps;
    if (growth <= 0 || load === null) continue;
    // The targets DNS itself picks for a shift (named ones, else the nearest with room).
    const targets = shiftTargets(after.edges, { ...e, loadRps: load, shiftPercent: growth * 100 });
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

/** The predicted loads as packages/safety's load moves (requests/s onto each target). */
export function predictMoves(before: SnapshotBody, after: SnapshotBody): LoadMove[] {
  return predictLoads(before, after)
    .map((p) => ({ edge: p.edge, rps: p.predictedRps - p.loadRps }))
    .filter((m) => m.rps > 0);
}
