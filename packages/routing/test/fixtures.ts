import { DEFAULT_SETTINGS, type SnapshotBody, type SnapshotEdge } from '@catchment/core';
import { snapshotEdge } from '@catchment/testkit';

/** A small world like config/demo.yaml: three large edges announce the /20 and /40, three small ones. */
export const edge = (name: string, over: Partial<SnapshotEdge> = {}): SnapshotEdge => snapshotEdge(name, over);

const large = ['fra', 'iad', 'sin'];
const all = ['fra', 'iad', 'sin', 'lhr', 'gru', 'syd'];

export function world(): SnapshotBody {
  return {
    zones: [],
    edges: all.map((n) => edge(n)),
    services: [
      {
        name: 'www.example.net',
        zone: 'example.net',
        ttl: 30,
        policy: null,
        ports: [80, 443],
        anycast: { v4: '198.18.0.1', v6: '2001:db8:100::1' },
        addresses: all.map((e, i) => ({ edge: e, v4: [`198.18.${i + 1}.10`], v6: [`2001:db8:10${i + 1}::10`] })),
      },
    ],
    policies: [],
    prefixes: [
      { cidr: '198.18.0.0/20', kind: 'anycast', edge: null, announcers: large, supernet: null, communities: [] },
      { cidr: '2001:db8:100::/40', kind: 'anycast', edge: null, announcers: large, supernet: null, communities: [] },
      ...all.map((e, i) => ({
        cidr: `198.18.${i + 1}.0/24`,
        kind: 'unicast' as const,
        edge: e,
        announcers: [e],
        supernet: '198.18.0.0/20',
        communities: e === 'lhr' ? ['64500:100'] : [],
      })),
      ...all.map((e, i) => ({
        cidr: `2001:db8:10${i + 1}::/48`,
        kind: 'unicast' as const,
        edge: e,
        announcers: [e],
        supernet: '2001:db8:100::/40',
        communities: [],
      })),
    ],
    announcements: [],
    transits: [
      {
        name: 'transit-a',
        asn: 64500,
        intents: {
          'no-export-to-64501': ['64500:64501'],
          'prepend-2x': ['64500:2002'],
          'lower-local-pref-eu': ['64500:70:150'],
          'graceful-shutdown': ['GRACEFUL_SHUTDOWN'],
        },
      },
      { name: 'transit-b', asn: 64510, intents: { 'prepend-2x': ['64510:202'], 'no-export-eu': ['64510:0:3'] } },
    ],
    dsr: [],
    automation: { frozen: false, frozenEdges: [] },
    settings: { ...DEFAULT_SETTINGS },
  };
}

/** A utilisation given alone sets the load that makes it (core's headroom rule reads the load). */
function withLoad(e: SnapshotEdge, over: Partial<SnapshotEdge>): SnapshotEdge {
  const out = { ...e, ...over };
  if (over.utilisation != null && over.loadRps === undefined) out.loadRps = over.utilisation * out.capacityRps;
  return out;
}

export function setEdge(body: SnapshotBody, name: string, over: Partial<SnapshotEdge>): SnapshotBody {
  return { ...body, edges: body.edges.map((e) => (e.name === name ? withLoad(e, over) : e)) };
}
