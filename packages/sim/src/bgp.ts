import type { SnapshotAnnouncement } from '@catchment/core';
import type { RouteEffect } from './communities.ts';
import type { Topology } from './transits.ts';

/** A route to one prefix as one transit holds it. */
interface Route {
  edge: number;
  localPref: number;
  /** AS path length: the edge's AS, its prepends, one more per transit it crossed. */
  pathLength: number;
  med: number;
  noExportTo: RouteEffect['noExportTo'];
}

const exportsTo = (r: Route, transit: string) =>
  r.noExportTo !== '*' && !(r.noExportTo as ReadonlySet<string>).has(transit);

/** The routes a transit learns from its customers: each announcing edge that buys from it, with its communities' effects. */
function customerRoutes(
  topo: Topology,
  t: number,
  from: SnapshotAnnouncement[],
  edgeIdx: Map<string, number>,
): Route[] {
  const transit = topo.transits[t]!;
  const out: Route[] = [];
  for (const a of from) {
    const edge = edgeIdx.get(a.edge)!;
    const link = transit.links[edge];
    if (!link) continue;
    const own = a.transitCommunities?.[transit.name];
    const fx = transit.effect(own ? [...a.communities, ...own] : a.communities);
    if (fx.reject) continue;
    out.push({
      edge,
      localPref: fx.localPref ?? link.localPref,
      pathLength: 1 + fx.prepend,
      med: link.med,
      noExportTo: fx.noExportTo,
    });
  }
  return out;
}

/**
 * Per transit, the edges whose routes to one prefix tie as BGP ranks them before the IGP
 * cost: highest local preference, then shortest AS path, then lowest MED (compared across
 * every route: a peer's route carries none). A transit passes its customers' routes to its
 * peers (not a peer's on to another: no transit for a peer), one AS longer, at its peer
 * local preference, unless a community keeps them from that peer. Empty: no route there
 * (also at a transit marked in `down`, whose customers' routes reach no peer either).
 */
export function bestRoutes(
  topo: Topology,
  from: SnapshotAnnouncement[],
  edgeIdx: Map<string, number>,
  down?: Uint8Array,
): number[][] {
  // A transit that is out holds no routes and passes none to its peers.
  const customers = topo.transits.map((_, t) => (down?.[t] ? [] : customerRoutes(topo, t, from, edgeIdx)));
  return topo.transits.map((transit, t) => {
    if (down?.[t]) return [];
    const routes = [...customers[t]!];
    for (const p of transit.peers) {
      for (const r of customers[p]!) {
        if (!exportsTo(r, transit.name)) continue;
        routes.push({
          edge: r.edge,
          localPref: transit.peerLocalPref,
          pathLength: r.pathLength + 1,
          med: 0,
          noExportTo: '*',
        });
      }
    }
    let best: Route[] = [];
    for (const r of routes) {
      const b = best[0];
      const cmp = b === undefined ? -1 : compare(r, b);
      if (cmp < 0) best = [r];
      else if (cmp === 0) best.push(r);
    }
    return [...new Set(best.map((r) => r.edge))];
  });
}

/** Negative when `x` is the better route, before the IGP cost. */
function compare(x: Route, y: Route): number {
  return y.localPref - x.localPref || x.pathLength - y.pathLength || x.med - y.med;
}

/** Hot potato: of the tied routes, the nearest announcer (the lower index on equal distance). */
export function nearest(edges: number[], km: Float64Array, offset: number): number {
  let pick = -1;
  let bestKm = Number.POSITIVE_INFINITY;
  for (const e of edges) {
    const d = km[offset + e]!;
    if (d < bestKm || (d === bestKm && e < pick)) {
      bestKm = d;
      pick = e;
    }
  }
  return pick;
}
