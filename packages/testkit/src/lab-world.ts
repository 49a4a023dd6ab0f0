import { DEFAULT_SETTINGS, type SnapshotBody, type SnapshotEdge } from '@catchment/core';
import { snapshotEdge } from './snapshots.ts';

const edge = (name: string, i: number): SnapshotEdge => snapshotEdge(name, { dsrAddress: `198.18.0.${10 + i}` });

/**
 * The lab world: fra and iad announce the anycast /20 and /40 and their own /24 and /48;
 * lhr is a small edge with only its unicast prefixes (covered by the supernets).
 */
export function labWorld(edges = ['fra', 'iad', 'lhr'], supernetAnnouncers = ['fra', 'iad']): SnapshotBody {
  return {
    zones: [],
    edges: edges.map(edge),
    services: [
      {
        name: 'www.example.net',
        zone: 'example.net',
        ttl: 30,
        policy: null,
        ports: [80],
        anycast: { v4: '198.18.0.1', v6: '2001:db8:100::1' },
        addresses: edges.map((e, i) => ({ edge: e, v4: [`198.18.${i + 1}.10`], v6: [`2001:db8:10${i + 1}::10`] })),
      },
    ],
    policies: [],
    prefixes: [
      {
        cidr: '198.18.0.0/20',
        kind: 'anycast',
        edge: null,
        announcers: supernetAnnouncers,
        supernet: null,
        communities: [],
      },
      {
        cidr: '2001:db8:100::/40',
        kind: 'anycast',
        edge: null,
        announcers: supernetAnnouncers,
        supernet: null,
        communities: [],
      },
      ...edges.flatMap((e, i) => [
        {
          cidr: `198.18.${i + 1}.0/24`,
          kind: 'unicast' as const,
          edge: e,
          announcers: [e],
          supernet: '198.18.0.0/20',
          communities: ['64500:100'],
        },
        {
          cidr: `2001:db8:10${i + 1}::/48`,
          kind: 'unicast' as const,
          edge: e,
          announcers: [e],
          supernet: '2001:db8:100::/40',
          communities: [],
        },
      ]),
    ],
    announcements: [],
    transits: [
      {
        name: 'transit-a',
        asn: 64500,
        intents: { 'prepend-2x': ['64500:2002'], 'lower-local-pref-eu': ['64500:70:150'] },
      },
    ],
    dsr: [],
    automation: { frozen: false, frozenEdges: [] },
    settings: { ...DEFAULT_SETTINGS },
  };
}
