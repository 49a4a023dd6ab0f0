import { type Db, schema } from '@catchment/db';
import { eq } from 'drizzle-orm';

/** Utilisation above which an edge has no headroom to take traffic, when no SLO says otherwise. */
export const HEADROOM_LIMIT = 0.85;

/**
 * Per-edge utilisation limits for the capacity check (safety rule 4: "its SLO
 * threshold"): the enter threshold of the edge's utilisation SLO, else of a global
 * utilisation SLO, else HEADROOM_LIMIT.
 */
export async function utilisationLimits(db: Db): Promise<(edge: string) => number> {
  const rows = await db
    .select({ edge: schema.edges.name, enter: schema.slos.enterThreshold })
    .from(schema.slos)
    .leftJoin(schema.edges, eq(schema.edges.id, schema.slos.edgeId))
    .where(eq(schema.slos.metric, 'utilisation'));
  const perEdge = new Map<string, number>();
  let global: number | undefined;
  for (const r of rows) {
    if (r.edge === null) global = Math.min(global ?? Number.POSITIVE_INFINITY, r.enter);
    else perEdge.set(r.edge, Math.min(perEdge.get(r.edge) ?? Number.POSITIVE_INFINITY, r.enter));
  }
  return (edge) => perEdge.get(edge) ?? global ?? HEADROOM_LIMIT;
}
