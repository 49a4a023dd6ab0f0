import { createHash } from 'node:crypto';
import { CatchmentError, canonicalJson, type NormalConfig, type SnapshotBody } from '@catchment/core';
import {
  CONFIG_KINDS,
  type ConfigKind,
  type Db,
  exportConfig,
  type FieldChange,
  fieldChanges,
  importConfig,
  type PlanChange,
  type ReadWorld,
  readWorld,
} from '@catchment/db';
import { checkTransition } from '@catchment/routing';
import { ENGINE_DEFAULTS, type PredictedLoad, predict, predictedLoads } from '@catchment/safety';
import { sql } from 'drizzle-orm';
import { diffBodies } from '../actions/diff.ts';
import type { ApiContext } from '../context.ts';
import type { Refusal } from '../safety/index.ts';

/** octoDNS's default: refuse plans that update or delete more than 30 % of what exists. */
export const DEFAULT_MAX_CHANGE_PERCENT = 30;
/** Like octoDNS, the share is judged only when this many objects exist (one change in three objects is no accident). */
export const GUARD_MIN_EXISTING = 10;

export interface PlannedChange {
  kind: PlanChange['kind'];
  key: string;
  op: PlanChange['op'];
  /** Updates: each changed field, before → after. */
  fields?: FieldChange[];
  /** Creates and deletes: the whole object. */
  object?: unknown;
}

export interface Guard {
  maxChangePercent: number;
  existing: number;
  updates: number;
  deletes: number;
  /** (updates + deletes) / existing, in %. */
  changePercent: number;
  /** Kinds the plan would leave empty although they have objects now (edges, prefixes, services). */
  removesAll: string[];
  /** Why apply refuses without force, one line each; empty: it may apply. */
  refusals: string[];
}

export interface Plan {
  /** Digest of the current state and the desired configuration: apply takes it back. */
  checksum: string;
  changes: PlannedChange[];
  summary: { create: number; update: number; delete: number };
  guard: Guard;
  /** The safety verdict of the resulting published state. */
  safety: { verdict: 'pass' | 'refused'; refusal: Refusal | null };
  /** What would change in the published snapshot (paths by name). */
  snapshotChanges: number;
  predictedLoads: PredictedLoad[];
}

const ESSENTIAL: ConfigKind[] = ['edges', 'prefixes', 'services'];

function guardOf(current: NormalConfig, changes: PlanChange[], maxChangePercent: number): Guard {
  const existing = CONFIG_KINDS.reduce((n, k) => n + (current[k] as unknown[]).length, 0);
  const updates = changes.filter((c) => c.op === 'update' && c.kind !== 'settings').length;
  const deletes = changes.filter((c) => c.op === 'delete').length;
  const changePercent = existing === 0 ? 0 : Math.round(((updates + deletes) * 1000) / existing) / 10;
  const removesAll = ESSENTIAL.filter((k) => {
    const had = (current[k] as unknown[]).length;
    return (
      had > 0 &&
      changes.filter((c) => c.kind === k && c.op === 'delete').length === had &&
      !changes.some((c) => c.kind === k && c.op === 'create')
    );
  });
  const refusals: string[] = [];
  if (existing >= GUARD_MIN_EXISTING && changePercent > maxChangePercent)
    refusals.push(
      `updates or deletes ${updates + deletes} of ${existing} objects (${changePercent} %), more than ${maxChangePercent} %`,
    );
  for (const k of removesAll) refusals.push(`removes every one of the ${(current[k] as unknown[]).length} ${k}`);
  return { maxChangePercent, existing, updates, deletes, changePercent, removesAll, refusals };
}

const digest = (v: unknown) => createHash('sha256').update(canonicalJson(v)).digest('hex');

class Rollback extends Error {}

/**
 * The plan of a configuration document against the database, computed by applying it
 * inside a transaction (the same importConfig that applies it for real), compiling the
 * snapshot before and after, and judging the transition with the routing rules
 * (coverage, last route, route-change budget) and predicting the load it moves.
 * `commit` decides, with the plan in hand, whether to keep the change (apply) or roll it
 * back (plan); it runs inside the same transaction, so what is applied is what was judged.
 */
export async function planConfig(
  ctx: ApiContext,
  document: unknown,
  opts: {
    actor: string;
    reason?: string;
    maxChangePercent?: number;
    commit?: (plan: Plan, tx: Db) => Promise<boolean>;
  },
): Promise<{ plan: Plan; committed: boolean }> {
  let result: { plan: Plan; committed: boolean } | undefined;
  try {
    await ctx.db.transaction(async (txn) => {
      const tx = txn as unknown as Db;
      // One plan-or-apply at a time, so a checksum cannot race another apply.
      await tx.execute(sqlLock);
      const current = await exportConfig(tx);
      const now = new Date();
      const before = await ctx.compile(tx, now);
      const world = await readWorld(tx, now, { body: before });
      const imported = await importConfig(tx, document, {
        actor: opts.actor,
        reason: opts.reason ?? 'configuration apply',
      });
      const after = await ctx.compile(tx);
      const plan = judge(
        world,
        current,
        imported.changes,
        before,
        after,
        opts.maxChangePercent ?? DEFAULT_MAX_CHANGE_PERCENT,
        imported.desired,
      );
      const committed = (await opts.commit?.(plan, tx)) ?? false;
      result = { plan, committed };
      if (!committed) throw new Rollback();
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  }
  if (!result) throw new CatchmentError('INTERNAL', 'configuration plan produced no result');
  return result;
}

/**
 * The load a configuration change moves: every edge that stops being usable (a state
 * set to maintenance or down, an edge removed) sheds all of its load, predicted by
 * packages/safety's one prediction as if it were drained.
 */
function configLoads(world: ReadWorld, after: SnapshotBody): PredictedLoad[] {
  const usableAfter = new Set(after.edges.filter((e) => e.usable).map((e) => e.name));
  return world.body.edges
    .filter((e) => e.usable && !usableAfter.has(e.name))
    .flatMap((e) =>
      predictedLoads(
        predict(world, [{ kind: 'drain', edge: e.name, params: {}, source: 'operator' }], ENGINE_DEFAULTS).prediction,
      ),
    );
}

/**
 * Coverage and last routes (packages/routing) on the transition, with the route-change
 * budget counted on the world's real route history.
 */
function checkRoutes(world: ReadWorld, after: SnapshotBody): Refusal | undefined {
  const history = world.routeChanges.map((c) => ({ prefix: c.prefix, at: c.at.getTime() }));
  const v = checkTransition(world.body, after, { history, now: world.now.getTime() });
  if (v.ok) return undefined;
  return {
    rule: v.rule === 'route-change-budget' ? 'route-budget' : v.rule === 'last-route' ? 'last-route' : 'coverage',
    reason: v.reason,
    details: { ...v.details, routingRule: v.rule },
  };
}

function judge(
  world: ReadWorld,
  current: NormalConfig,
  changes: PlanChange[],
  before: SnapshotBody,
  after: SnapshotBody,
  maxChangePercent: number,
  desired: NormalConfig,
): Plan {
  const planned: PlannedChange[] = changes.map((c) =>
    c.op === 'update'
      ? { kind: c.kind, key: c.key, op: c.op, fields: fieldChanges(c.before, c.after) }
      : { kind: c.kind, key: c.key, op: c.op, object: c.op === 'create' ? c.after : c.before },
  );
  const refusal = changes.length === 0 ? undefined : checkRoutes(world, after);
  return {
    checksum: digest({ current, desired }),
    changes: planned,
    summary: {
      create: changes.filter((c) => c.op === 'create').length,
      update: changes.filter((c) => c.op === 'update').length,
      delete: changes.filter((c) => c.op === 'delete').length,
    },
    guard: guardOf(current, changes, maxChangePercent),
    safety: { verdict: refusal ? 'refused' : 'pass', refusal: refusal ?? null },
    snapshotChanges: diffBodies(before, after).length,
    predictedLoads: configLoads(world, after),
  };
}

const sqlLock = sql`select pg_advisory_xact_lock(hashtext('catchment:config-apply'))`;
