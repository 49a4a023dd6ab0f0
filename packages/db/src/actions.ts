import { type ActionKind, actionActive, byActionOrder, HOUR_MS, isActionKind, type WorldAction } from '@catchment/core';
import { and, eq, gt, inArray, isNull, lt, lte, or, type SQL } from 'drizzle-orm';
import { recordAudit } from './audit.ts';
import type { Db } from './connection.ts';
import type { RouteActionSpan } from './route-history.ts';
import * as t from './schema.ts';

// The owner of the `actions` table's reads for decisions and of its writes: the
// API's action routes and the controller's stages read and write actions here, and
// every write records its audit entry in the same transaction.

type Reader = Pick<Db, 'select'>;
type Writer = Pick<Db, 'insert'>;
export type ActionRow = typeof t.actions.$inferSelect;

/** An active action with the names of its edge and prefix. */
export interface NamedAction extends WorldAction {
  id: number;
  createdAt: Date;
  expiresAt: Date | null;
  reason: string;
}

async function names(db: Reader) {
  const [edges, prefixes] = await Promise.all([
    db.select({ id: t.edges.id, name: t.edges.name }).from(t.edges),
    db.select({ id: t.prefixes.id, cidr: t.prefixes.cidr }).from(t.prefixes),
  ]);
  return { edge: new Map(edges.map((e) => [e.id, e.name])), prefix: new Map(prefixes.map((p) => [p.id, p.cidr])) };
}

function named(r: ActionRow, n: Awaited<ReturnType<typeof names>>): NamedAction | undefined {
  if (!isActionKind(r.kind)) return undefined;
  const params = (r.params ?? {}) as Record<string, unknown>;
  const prefix = r.prefixId !== null ? n.prefix.get(r.prefixId) : undefined;
  return {
    id: r.id,
    kind: r.kind as ActionKind,
    edge: r.edgeId === null ? null : (n.edge.get(r.edgeId) ?? null),
    prefix: prefix ?? (typeof params.prefix === 'string' ? params.prefix : null),
    source: r.source === 'automation' ? 'automation' : 'operator',
    params,
    runId: r.runId,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    reason: r.reason,
  };
}

/** The SQL form of core's `actionActive`: not reverted, not expired at `now`. */
export function actionActiveAt(now: Date): SQL | undefined {
  return and(isNull(t.actions.revertedAt), or(isNull(t.actions.expiresAt), gt(t.actions.expiresAt, now)));
}

/**
 * The actions in force at `now` (core's `actionActive`), in the order they apply
 * (`byActionOrder`): the compiler, the API and the controller all read them here.
 */
export async function readActiveActions(db: Reader, now: Date): Promise<NamedAction[]> {
  const [rows, n] = await Promise.all([db.select().from(t.actions).where(actionActiveAt(now)), names(db)]);
  return rows
    .filter((r) => actionActive(r, now))
    .flatMap((r) => named(r, n) ?? [])
    .sort(byActionOrder);
}

/**
 * The route-changing actions (withdrawals, communities) that were in force at some
 * time in the last hour, as spans; `routeChanges` turns them into real transitions.
 */
export async function readRouteSpans(db: Reader, now: Date): Promise<RouteActionSpan[]> {
  const hourAgo = new Date(now.getTime() - HOUR_MS);
  const [rows, n] = await Promise.all([
    db
      .select()
      .from(t.actions)
      .where(
        and(
          inArray(t.actions.kind, ['withdraw-unicast', 'communities']),
          or(isNull(t.actions.revertedAt), gt(t.actions.revertedAt, hourAgo)),
          or(isNull(t.actions.expiresAt), gt(t.actions.expiresAt, hourAgo)),
        ),
      ),
    names(db),
  ]);
  return rows.flatMap((r) => {
    const a = named(r, n);
    if (!a || r.createdAt > now) return [];
    const expired = r.expiresAt !== null && r.expiresAt <= now ? r.expiresAt : null;
    const ends = [r.revertedAt, expired].filter((d): d is Date => d !== null);
    const end = ends.length > 0 ? new Date(Math.min(...ends.map((d) => d.getTime()))) : null;
    const prefix = a.kind === 'withdraw-unicast' || typeof a.params.prefix === 'string' ? a.prefix : null;
    return [{ kind: a.kind, edge: a.edge, prefix, start: r.createdAt, end }];
  });
}

export type NewActionRow = typeof t.actions.$inferInsert;

/** Inserts one action and its audit entry (`apply` by its actor) in the caller's transaction. */
export async function insertAction(
  tx: Writer,
  values: NewActionRow,
  audit: { reason: string; after: unknown; at?: Date; forced?: boolean },
): Promise<ActionRow> {
  const [row] = await tx.insert(t.actions).values(values).returning();
  if (!row) throw new Error('action insert returned nothing');
  await recordAudit(tx, {
    actor: values.actor,
    action: 'apply',
    objectType: 'action',
    objectId: String(row.id),
    reason: audit.reason,
    forced: audit.forced ?? false,
    after: audit.after,
    ...(audit.at ? { at: audit.at } : {}),
  });
  return row;
}

/**
 * Renews the expiry of open runs' active actions whose expiry comes closer than half
 * their lifetime (the leader's heartbeat; not audited: nothing about the action changes).
 */
export async function renewRunActions(db: Db, runIds: number[], now: Date, ttlMs: number): Promise<void> {
  if (runIds.length === 0) return;
  await db
    .update(t.actions)
    .set({ expiresAt: new Date(now.getTime() + ttlMs) })
    .where(
      and(
        inArray(t.actions.runId, runIds),
        isNull(t.actions.revertedAt),
        gt(t.actions.expiresAt, now),
        lt(t.actions.expiresAt, new Date(now.getTime() + ttlMs / 2)),
      ),
    );
}

/** Ids of a run's actions that are not reverted (what a resolving run must leave behind: none). */
export async function runActionIds(db: Reader, runId: number): Promise<number[]> {
  const rows = await db
    .select({ id: t.actions.id })
    .from(t.actions)
    .where(and(eq(t.actions.runId, runId), isNull(t.actions.revertedAt)));
  return rows.map((r) => r.id);
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Reverts actions that are still active, each with its audit entry; returns the ids it reverted (idempotent). */
export async function revertActions(tx: Tx, ids: number[], now: Date, by: string): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .update(t.actions)
    .set({ revertedAt: now, revertedBy: by })
    .where(and(inArray(t.actions.id, ids), isNull(t.actions.revertedAt)))
    .returning({ id: t.actions.id, kind: t.actions.kind, params: t.actions.params });
  await recordAudit(
    tx,
    rows.map((r) => ({
      at: now,
      actor: by,
      action: 'revert',
      objectType: 'action',
      objectId: String(r.id),
      reason: `reverted by ${by}`,
      before: { kind: r.kind, params: r.params, active: true },
      after: { active: false },
    })),
  );
  return rows.map((r) => r.id);
}

/** Whether an action expired in (since, now]: the compiled state changed without any write. */
export async function actionsExpiredBetween(db: Reader, since: Date, now: Date): Promise<boolean> {
  const rows = await db
    .select({ id: t.actions.id })
    .from(t.actions)
    .where(and(isNull(t.actions.revertedAt), gt(t.actions.expiresAt, since), lte(t.actions.expiresAt, now)))
    .limit(1);
  return rows.length > 0;
}
