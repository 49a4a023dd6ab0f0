import type { Snapshot } from '@catchment/core';
import { type ExplainInput, type Explanation, explainClient } from './explain.ts';
import type { GeoDb } from './geodb.ts';
import { SteeringBuilder, type SteeringTable } from './steering.ts';

export interface NotSteered {
  service: null;
  name: string;
  detail: string;
}

/**
 * The function behind the API's GET /v1/explain (its `Explain` seam): the same tables the DNS
 * servers build, cached per (snapshot version, GeoIP version) so repeated questions are cheap.
 */
export function createExplainer(geo: GeoDb): (snapshot: Snapshot, query: ExplainInput) => Explanation | NotSteered {
  let cache: { version: number; geoVersion: number; table: SteeringTable } | undefined;
  // Later snapshots that only change edge state/shift/load rebuild incrementally.
  const builder = new SteeringBuilder();
  return (snapshot, query) => {
    if (!cache || cache.version !== snapshot.version || cache.geoVersion !== geo.version) {
      cache = { version: snapshot.version, geoVersion: geo.version, table: builder.build(snapshot.body, geo) };
    }
    const e = explainClient(snapshot.body, cache.table, geo, query);
    return (
      e ?? {
        service: null,
        name: query.name,
        detail: 'not a steered service: DNS answers it from static records, the same for every client',
      }
    );
  };
}
