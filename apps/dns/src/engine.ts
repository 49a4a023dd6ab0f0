import type { Snapshot } from '@catchment/core';
import { buildSteering, type GeoDb } from '@catchment/geo';
import { compileZones } from './zone/compile.ts';
import type { CompiledZones } from './zone/types.ts';

/** Snapshot + GeoIP databases → everything the query path reads. */
export function compileSnapshot(snapshot: Snapshot, geo: GeoDb): CompiledZones {
  return compileZones(snapshot, buildSteering(snapshot.body, geo));
}

export { networkSetTrie } from './network-set.ts';
