import type { SnapshotBody } from '@catchment/core';
import { checkWithdrawal } from '@catchment/routing';
import type { Refusal, RoutingGuard, SafetyWorld } from '@catchment/safety';

/**
 * The controller's coverage and last-route checks, by @catchment/routing (the same rules the
 * API and the edge agents apply): the safety world is seen as the routing part of a snapshot
 * body (edges, prefixes, active withdrawals, services), and the withdrawal is judged in the
 * state it leaves behind. An edge counts as covering with headroom below its own SLO threshold.
 */
export const routingGuard: RoutingGuard = {
  checkWithdrawal(world, prefix, edge) {
    const verdict = checkWithdrawal(routingBody(world), edge, prefix, { headroomUtilisation: 1 });
    if (verdict.ok) return [];
    // No other announcer of any covering supernet left: the prefix would be the last route.
    const supernets = (verdict.details?.supernets ?? []) as { announcers: string[] }[];
    const last =
      verdict.rule === 'last-route' ||
      (verdict.rule === 'coverage' && supernets.every((s) => s.announcers.length === 0));
    const rule: Refusal['rule'] = last ? 'last-route' : 'coverage';
    return [{ rule, reason: verdict.reason, details: { routingRule: verdict.rule, ...verdict.details } }];
  },
};

/** The parts of a snapshot body that @catchment/routing's safety rules read. */
export function routingBody(world: SafetyWorld): SnapshotBody {
  return {
    zones: [],
    policies: [],
    transits: [],
    dsr: [],
    automation: { frozen: false, frozenEdges: [] },
    settings: world.settings,
    edges: world.edges.map((e) => {
      const usable = e.override === 'force-up' || (e.override === 'none' && e.state === 'active');
      // Utilisation relative to the edge's own threshold, so routing's "headroom below 1" is the SLO's.
      const utilisation = e.loadRps === null || e.capacityRps <= 0 ? null : e.loadRps / (e.capacityRps * e.threshold);
      return {
        name: e.name,
        lat: 0,
        lon: 0,
        country: 'ZZ',
        continent: 'EU',
        region: null,
        capacityRps: e.capacityRps,
        state: e.state,
        override: e.override,
        usable,
        loadRps: e.loadRps,
        utilisation,
        shiftPercent: 0,
        shiftTargets: [],
        dsrAddress: e.dsrAddress,
      };
    }),
    prefixes: world.prefixes.map((p) => ({
      cidr: p.cidr,
      kind: p.kind,
      edge: p.edge,
      announcers: p.announcers,
      supernet: p.supernet,
      communities: [],
    })),
    // Active withdrawals (an action without an edge withdraws the prefix at every announcer).
    announcements: world.actions
      .filter((a) => a.kind === 'withdraw-unicast' && a.prefix)
      .flatMap((a) => {
        const p = world.prefixes.find((x) => x.cidr === a.prefix);
        const edges = a.edge ? [a.edge] : (p?.announcers ?? []);
        return edges.map((edge) => ({
          edge,
          prefix: a.prefix as string,
          state: 'withdrawn' as const,
          communities: [],
          reason: `action ${a.id ?? ''}`.trim(),
        }));
      }),
    services: [],
  };
}
