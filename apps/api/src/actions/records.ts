import { actionActive } from '@catchment/core';
import { actionActiveAt, type Db, schema } from '@catchment/db';
import { asc, eq, type SQL } from 'drizzle-orm';
import type { ActionRecord } from './schemas.ts';

const t = schema.actions;

function recordOf(
  r: typeof t.$inferSelect,
  edge: string | null,
  prefix: string | null,
  now = Date.now(),
): ActionRecord {
  return {
    id: r.id,
    kind: r.kind,
    edge,
    prefix,
    params: r.params as Record<string, unknown>,
    reason: r.reason,
    actor: r.actor,
    source: r.source,
    forced: r.forced,
    runId: r.runId,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt?.toISOString() ?? null,
    revertedAt: r.revertedAt?.toISOString() ?? null,
    revertedBy: r.revertedBy,
    active: actionActive(r, new Date(now)),
  };
}

/** Actions as the API shows them (edge and prefix by name), in id order. */
export async function loadActions(db: Db, where: SQL | undefined, limit = 1000): Promise<ActionRecord[]> {
  const rows = await db
    .select({ a: t, edge: schema.edges.name, prefix: schema.prefixes.cidr })
    .from(t)
    .leftJoin(schema.edges, eq(schema.edges.id, t.edgeId))
    .leftJoin(schema.prefixes, eq(schema.prefixes.id, t.prefixId))
    .where(where)
    .orderBy(asc(t.id))
    .limit(limit);
  return rows.map((r) => recordOf(r.a, r.edge, r.prefix));
}

export const activeNow = () => actionActiveAt(new Date());
