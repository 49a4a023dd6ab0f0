import type { SnapshotBody } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { and, eq, gt, or } from 'drizzle-orm';
import type { Refusal } from './index.ts';

/** Prefixes whose announcement state differs between two bodies (a route change each). */
export function changedRoutes(before: SnapshotBody, after: SnapshotBody): string[] {
  const state = (b: SnapshotBody) => new Map(b.announcements.map((a) => [`${a.edge} ${a.prefix}`, a.state]));
  const was = state(before);
  const out = new Set<string>();
  for (const a of after.announcements) {
    const prev = was.get(`${a.edge} ${a.prefix}`);
    if (prev !== undefined && prev !== a.state) out.add(a.prefix);
  }
  return [...out];
}

/**
 * Safety rule 5, the route-change budget: a prefix changes announcement state at most
 * N times an hour (flap damping punishes more). Past changes are the withdraw actions of
 * the prefix created or reverted within the hour.
 */
export async function checkRouteBudget(
  db: Db,
  before: SnapshotBody,
  after: SnapshotBody,
  now: Date,
): Promise<Refusal | undefined> {
  const budget = after.settings.routeChangesPerPrefixPerHour;
  const since = new Date(now.getTime() - 3_600_000);
  const t = schema.actions;
  for (const prefix of changedRoutes(before, after)) {
    const rows = await db
      .select({ createdAt: t.createdAt, revertedAt: t.revertedAt })
      .from(t)
      .innerJoin(schema.prefixes, eq(schema.prefixes.id, t.prefixId))
      .where(
        and(
          eq(t.kind, 'withdraw-unicast'),
          eq(schema.prefixes.cidr, prefix),
          or(gt(t.createdAt, since), gt(t.revertedAt, since)),
        ),
      );
    // The change being made is itself in the transaction: count it once, not twice.
    const changes = rows.reduce(
      (n, r) => n + (r.createdAt > since ? 1 : 0) + (r.revertedAt && r.revertedAt > since ? 1 : 0),
      0,
    );
    if (changes > budget) {
      return {
        rule: 'route-budget',
        message: `${prefix} would change ${changes} times within an hour; the budget is ${budget}`,
        details: { prefix, changes, budget },
      };
    }
  }
  return undefined;
}
