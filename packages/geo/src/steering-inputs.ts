import { acceptsMovedLoad, canonicalJson, hasHeadroom, movedPercent, type SnapshotBody } from '@catchment/core';

/**
 * What the answer tables (steering.ts) read of a snapshot body, with the loads reduced to
 * what they decide: whether each edge has headroom, may receive moved blocks, and the
 * watermarks' percentage. The raw loads count only while some edge moves blocks (they weigh
 * the targets and say how many are needed). So a load report that changes none of this
 * changes no answer, and a load-only publication is not worth making.
 */
export function steeringInputs(body: SnapshotBody): string {
  const moving = body.edges.some((e) => movedPercent(e) > 0);
  const edges = body.edges.map(({ loadRps, loadReportedAt: _at, utilisation: _u, watermarks, ...e }) => ({
    ...e,
    headroom: hasHeadroom({ ...e, loadRps }),
    target: acceptsMovedLoad({ ...e, loadRps, watermarks }),
    ...(watermarks ? { watermarks: { low: watermarks.low, high: watermarks.high, percent: watermarks.percent } } : {}),
    ...(moving ? { loadRps, demandRps: watermarks?.demandRps ?? null } : {}),
  }));
  // Canonical: a body read back from jsonb has its keys in another order.
  return canonicalJson({ ...body, edges });
}

/** Whether `next` would give different DNS answers (or DSR target weights) than `latest`. */
export function steeringChanged(latest: SnapshotBody, next: SnapshotBody): boolean {
  return steeringInputs(latest) !== steeringInputs(next);
}
