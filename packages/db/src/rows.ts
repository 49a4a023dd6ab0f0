import type {
  EdgeConfig,
  EdgeDsrConfig,
  PolicyConfig,
  SloConfig,
  SloObjective,
  WatermarksConfig,
} from '@catchment/core';
import { eq } from 'drizzle-orm';
import type { Db } from './connection.ts';
import * as t from './schema.ts';

/**
 * Configuration objects → table rows, shared by `catchment import` and the API's
 * resources so that both write an object the same way.
 */
export function edgeColumns(e: EdgeConfig) {
  return {
    name: e.name,
    description: e.description ?? null,
    lat: e.location.lat,
    lon: e.location.lon,
    country: e.location.country,
    continent: e.location.continent,
    region: e.location.region ?? null,
    capacityRps: e.capacity.rps,
    capacityGbps: e.capacity.gbps ?? null,
    state: e.state ?? 'active',
    override: e.override ?? 'none',
    dsrAddress: e.dsrAddress ?? null,
    dsrEncap: e.dsr?.encap ?? 'ipip',
    dsrGuePort: e.dsr?.guePort ?? null,
    dsrClientPrefixes: e.dsr?.clientPrefixes ?? [],
    watermarks: e.watermarks ?? null,
  };
}

/** An edge row's own watermarks as configuration: absent when it has none. */
export function edgeWatermarksOf(row: { watermarks: unknown }): { watermarks?: WatermarksConfig } {
  const w = row.watermarks as WatermarksConfig | null;
  if (w === null || w === undefined) return {};
  return { watermarks: w === false ? false : { low: w.low, high: w.high } };
}

/** An edge row's DSR settings as configuration: absent when all are defaults (as normalised). */
export function edgeDsrOf(row: { dsrEncap: string; dsrGuePort: number | null; dsrClientPrefixes: unknown }): {
  dsr?: EdgeDsrConfig;
} {
  const clientPrefixes = (row.dsrClientPrefixes ?? []) as NonNullable<EdgeDsrConfig['clientPrefixes']>;
  if (row.dsrEncap === 'ipip' && row.dsrGuePort === null && clientPrefixes.length === 0) return {};
  return {
    dsr: {
      encap: row.dsrEncap as 'ipip' | 'gue',
      ...(row.dsrGuePort === null ? {} : { guePort: row.dsrGuePort }),
      ...(clientPrefixes.length > 0 ? { clientPrefixes } : {}),
    },
  };
}

/** Replaces a policy's rules (and their ordered target edges). */
export async function writePolicyRules(
  tx: Db,
  policyId: number,
  rules: PolicyConfig['rules'],
  edgeId: (name: string) => number,
): Promise<void> {
  await tx.delete(t.policyRules).where(eq(t.policyRules.policyId, policyId));
  for (const [position, rule] of rules.entries()) {
    const m = rule.match;
    const [row] = await tx
      .insert(t.policyRules)
      .values({
        policyId,
        position,
        kind: 'cidr' in m ? 'cidr' : 'asn' in m ? 'asn' : 'country' in m ? 'country' : 'continent',
        cidr: 'cidr' in m ? m.cidr : null,
        asn: 'asn' in m ? m.asn : null,
        country: 'country' in m ? m.country : null,
        continent: 'continent' in m ? m.continent : null,
      })
      .returning({ id: t.policyRules.id });
    if (!row) throw new Error('policy rule insert returned nothing');
    await tx
      .insert(t.policyRuleEdges)
      .values(rule.edges.map((edge, i) => ({ ruleId: row.id, position: i, edgeId: edgeId(edge) })));
  }
}

/** A policy's rules as configuration, from its rows (the inverse of `writePolicyRules`). */
export function policyRulesOf(
  policyId: number,
  rules: (typeof t.policyRules.$inferSelect)[],
  targets: (typeof t.policyRuleEdges.$inferSelect)[],
  edgeName: (id: number) => string,
): PolicyConfig['rules'] {
  return rules
    .filter((r) => r.policyId === policyId)
    .sort((a, b) => a.position - b.position)
    .map((r) => ({
      match:
        r.kind === 'cidr'
          ? { cidr: r.cidr ?? '' }
          : r.kind === 'asn'
            ? { asn: r.asn ?? 0 }
            : r.kind === 'country'
              ? { country: r.country ?? '' }
              : { continent: (r.continent ?? 'EU') as 'EU' },
      edges: targets
        .filter((x) => x.ruleId === r.id)
        .sort((a, b) => a.position - b.position)
        .map((x) => edgeName(x.edgeId)),
    }));
}

/** An SLO as a row; `edgeId` is the id of `s.edge` (null: every edge). */
export function sloColumns(s: SloConfig, edgeId: number | null) {
  return {
    name: s.name,
    edgeId,
    metric: s.metric,
    enterThreshold: s.enter,
    exitThreshold: s.exit,
    window: s.window,
    query: s.query ?? null,
    objective: s.objective ?? null,
  };
}

/** An SLO row as configuration (absent fields left out, as normalised). */
export function sloConfigOf(r: typeof t.slos.$inferSelect, edgeName: string | undefined): SloConfig {
  return {
    name: r.name,
    ...(edgeName !== undefined ? { edge: edgeName } : {}),
    // core's SloMetric union is built with .map(), so its static type is never.
    metric: r.metric as never,
    enter: r.enterThreshold,
    exit: r.exitThreshold,
    window: r.window,
    ...(r.query ? { query: r.query } : {}),
    ...(r.objective ? { objective: r.objective as SloObjective } : {}),
  };
}
