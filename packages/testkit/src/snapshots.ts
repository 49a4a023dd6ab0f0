import {
  DEFAULT_UTILISATION_THRESHOLD,
  edgeUsable,
  type SnapshotBody,
  type SnapshotEdge,
  type World,
} from '@catchment/core';

/** A snapshot edge for tests: active, usable, no load, no shift; `over` sets the rest. */
export function snapshotEdge(name: string, over: Partial<SnapshotEdge> = {}): SnapshotEdge {
  return {
    name,
    lat: 0,
    lon: 0,
    country: 'DE',
    continent: 'EU',
    region: null,
    capacityRps: 1000,
    state: 'active',
    override: 'none',
    usable: true,
    loadRps: null,
    utilisation: null,
    threshold: DEFAULT_UTILISATION_THRESHOLD,
    shiftPercent: 0,
    shiftTargets: [],
    dsrAddress: null,
    ...over,
  };
}

/**
 * A snapshot body for a hand-built decision world (packages/core World), as the compiler
 * would make it: edges, prefixes, announcements (withdrawn while the edge is down, forced
 * down or withdrawn by an action), and services with one address in each edge's first
 * unicast /24 (`.10`), so @catchment/routing can judge coverage and last routes on it.
 */
export function bodyOfWorld(world: World): SnapshotBody {
  const edges = world.edges.map((e) =>
    snapshotEdge(e.name, {
      capacityRps: e.capacityRps,
      loadRps: e.loadRps,
      utilisation: e.loadRps === null ? null : e.loadRps / e.capacityRps,
      state: e.state,
      override: e.override,
      usable: edgeUsable(e),
      threshold: e.threshold,
      dsrAddress: e.dsrAddress,
      lat: e.lat ?? 0,
      lon: e.lon ?? 0,
    }),
  );
  const announcing = (name: string) => {
    const e = world.edges.find((x) => x.name === name);
    if (!e || e.override === 'force-down') return false;
    return e.override === 'force-up' || (e.state !== 'down' && e.state !== 'maintenance');
  };
  const withdrawn = (edge: string, prefix: string) =>
    world.actions.some(
      (a) => a.kind === 'withdraw-unicast' && a.prefix === prefix && (a.edge === edge || a.edge === null),
    );
  const address = (edge: string) => {
    const p = world.prefixes.find((x) => x.kind === 'unicast' && x.edge === edge && x.cidr.includes('.'));
    return p ? [p.cidr.replace(/\.0\/\d+$/, '.10')] : [];
  };
  return {
    zones: [],
    edges,
    services: world.services.map((s) => ({
      name: s.name,
      zone: 'example.net',
      ttl: 30,
      policy: null,
      ports: [80, 443],
      anycast: {
        v4: s.anycast
          ? (world.prefixes.find((p) => p.kind === 'anycast')?.cidr.replace(/\.0\/\d+$/, '.1') ?? null)
          : null,
        v6: null,
      },
      addresses: s.edges.map((edge) => ({ edge, v4: address(edge), v6: [] })),
    })),
    policies: [],
    prefixes: world.prefixes.map((p) => ({ ...p, communities: [] })),
    announcements: world.prefixes.flatMap((p) =>
      p.announcers.map((edge) => ({
        edge,
        prefix: p.cidr,
        state: announcing(edge) && !withdrawn(edge, p.cidr) ? ('announced' as const) : ('withdrawn' as const),
        communities: [],
        reason: null,
      })),
    ),
    transits: [],
    dsr: [],
    automation: { frozen: false, frozenEdges: [] },
    settings: world.settings,
  };
}
