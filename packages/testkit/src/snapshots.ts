import type { SnapshotEdge } from '@catchment/core';

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
    shiftPercent: 0,
    shiftTargets: [],
    dsrAddress: null,
    ...over,
  };
}
