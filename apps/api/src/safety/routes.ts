import type { SnapshotBody } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { checkTransition, type RouteChange } from '@catchment/routing';
import { and, eq, gt, inArray, or } from 'drizzle-orm';
import type { Refusal } from './index.ts';

const ROUTE_KINDS = ['withdraw-unicast', 'communities'];

/**
 * Route changes of the last hour (rule 5's history), from the actions that change
 * announcements: a withdrawal or community change when created and when reverted.
 * The change being judged is left out (`changed` are its action ids): the budget
 * counts it as the next one.
 */
export async function routeHistory(
  db: Db,
  before: SnapshotBody,
  now: Date,
  changed: readonly number[],
): Promise<RouteChange[]> {
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const t = schema.actions;
  const rows = await db
    .select({ id: t.id, edge: schema.edges.name, params: t.params, createdAt: t.createdAt, revertedAt: t.revertedAt })
    .from(t)
    .leftJoin(schema.edges, eq(schema.edges.id, t.edgeId))
    .where(and(inArray(t.kind, ROUTE_KINDS), or(gt(t.createdAt, hourAgo), gt(t.revertedAt, hourAgo))));
  const out: RouteChange[] = [];
  for (const r of rows) {
    if (changed.includes(r.id)) continue;
    const prefix = (r.params as { prefix?: unknown }).prefix;
    const prefixes =
      typeof prefix === 'string'
        ? [prefix]
        : before.announcements.filter((a) => a.edge === r.edge).map((a) => a.prefix);
    for (const at of [r.createdAt, r.revertedAt]) {
      if (at && at > hourAgo) for (const p of prefixes) out.push({ prefix: p, at: at.getTime() });
    }
  }
  return out;
}

/**
 * Safety rules 2, 3 (routes) and 5 (route budget) from packages/routing, judged on the
 * two snapshot bodies: coverage before withdrawal in the after-state, no service losing
 * its last announced route, and each changed prefix within its hourly budget.
 */
export async function checkRoutes(
  db: Db,
  before: SnapshotBody,
  after: SnapshotBody,
  now: Date,
  changed: readonly number[],
): Promise<Refusal | undefined> {
  const history = await routeHistory(db, before, now, changed);
  const v = checkTransition(before, after, { history, now: now.getTime() });
  return v.ok ? undefined : { rule: v.rule, message: v.reason, details: v.details ?? {} };
}
