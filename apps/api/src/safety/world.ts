import { isActionKind, type SnapshotBody } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import type { SafetyAction, SafetyWorld } from '@catchment/safety';
import { and, gt, inArray, isNull, or } from 'drizzle-orm';
import { routeHistory } from './routes.ts';

/**
 * packages/safety's world as it was before the change: edges, prefixes and services
 * from the current snapshot body, thresholds from the utilisation SLOs, the active
 * actions without the ones this change created (and with the ones it reverted), and
 * the route changes of the last hour.
 */
export async function worldBefore(
  db: Db,
  before: SnapshotBody,
  now: Date,
  changed: readonly number[],
  limitOf: (edge: string) => number,
): Promise<SafetyWorld> {
  const t = schema.actions;
  const rows = await db
    .select()
    .from(t)
    .where(
      or(
        and(isNull(t.revertedAt), or(isNull(t.expiresAt), gt(t.expiresAt, now))),
        changed.length > 0 ? inArray(t.id, [...changed]) : undefined,
      ),
    );
  const edgeName = new Map(
    (await db.select({ id: schema.edges.id, name: schema.edges.name }).from(schema.edges)).map((e) => [e.id, e.name]),
  );
  const actions: SafetyAction[] = rows
    .filter((r) => (changed.includes(r.id) ? r.revertedAt !== null : true))
    .flatMap((r) => {
      if (!isActionKind(r.kind)) return [];
      const params = (r.params ?? {}) as Record<string, unknown>;
      return [
        {
          id: r.id,
          kind: r.kind,
          edge: r.edgeId === null ? null : (edgeName.get(r.edgeId) ?? null),
          prefix: typeof params.prefix === 'string' ? params.prefix : null,
          source: r.source === 'automation' ? 'automation' : 'operator',
          params,
          runId: r.runId,
        },
      ];
    });
  return {
    now,
    settings: before.settings,
    edges: before.edges.map((e) => ({
      name: e.name,
      capacityRps: e.capacityRps,
      loadRps: e.loadRps,
      state: e.state,
      override: e.override,
      threshold: limitOf(e.name),
      dsrAddress: e.dsrAddress,
    })),
    actions,
    prefixes: before.prefixes.map((p) => ({
      cidr: p.cidr,
      kind: p.kind,
      edge: p.edge,
      announcers: p.announcers,
      supernet: p.supernet,
    })),
    services: before.services.map((s) => ({
      name: s.name,
      edges: s.addresses.filter((a) => a.v4.length + a.v6.length > 0).map((a) => a.edge),
      anycast: s.anycast.v4 !== null || s.anycast.v6 !== null,
    })),
    routeChanges: (await routeHistory(db, before, now, changed)).map((c) => ({ prefix: c.prefix, at: new Date(c.at) })),
  };
}
