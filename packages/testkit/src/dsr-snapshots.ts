import { type Snapshot, type SnapshotBody, type SnapshotDsr, type SnapshotEdge, sealSnapshot } from '@catchment/core';
import { snapshotEdge } from './snapshots.ts';

/** Minimal snapshots for the XDP tests: only edges (with dsrAddress) and dsr entries matter. */
export const edge = (name: string, dsrAddress: string | null): SnapshotEdge => snapshotEdge(name, { dsrAddress });

export function dsr(e: string, over: Partial<SnapshotDsr>): SnapshotDsr {
  return {
    edge: e,
    enabled: true,
    fraction: 0,
    targets: [],
    vips: [],
    seed: 12345,
    encap: 'ipip',
    guePort: 6080,
    clientPrefixes: [],
    ...over,
  };
}

let version = 1;

export function snapshot(edges: SnapshotEdge[], entries: SnapshotDsr[]): Snapshot {
  const body: SnapshotBody = {
    zones: [],
    edges,
    services: [],
    policies: [],
    prefixes: [],
    announcements: [],
    transits: [],
    dsr: entries,
    automation: { frozen: false, frozenEdges: [] },
    settings: {
      coverageMinAnnouncers: 2,
      maxEdgesShed: 1,
      maxCapacityShedPercent: 25,
      routeChangesPerPrefixPerHour: 6,
      maxAnnounceLengthV4: 24,
      maxAnnounceLengthV6: 48,
      ecsTrustedResolvers: [],
    },
  };
  return sealSnapshot(version++, body);
}
