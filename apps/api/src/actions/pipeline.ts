import { CatchmentError, type SnapshotBody } from '@catchment/core';
import { type Db, readWorld, recordAudit } from '@catchment/db';
import type { PredictedLoad } from '@catchment/safety';
import type { ApiContext } from '../context.ts';
import type { ProposedAction, Refusal } from '../safety/index.ts';
import { type Change, diffBodies } from './diff.ts';

export interface ChangeRequest<R> {
  actor: string;
  reason: string;
  force: boolean;
  dryRun: boolean;
  proposed: ProposedAction;
  /** Writes the change inside the transaction; returns the result and its audit record. */
  apply(tx: Db): Promise<{
    result: R;
    audit: { action: string; objectType: string; objectId: string; before?: unknown; after?: unknown };
  }>;
  /** Runs first in the transaction (e.g. an idempotency lock), may short-circuit with a replay. */
  prepare?(tx: Db): Promise<R | undefined>;
  /** Runs last in the transaction of an applied change (e.g. keeps the response for replays). */
  applied?(tx: Db, o: { result: R; diff: Change[]; refusal: Refusal | null; forced: boolean }): Promise<void>;
}

export type ChangeOutcome<R> =
  | {
      kind: 'dry-run';
      diff: Change[];
      refusal: Refusal | null;
      predictedLoads: PredictedLoad[];
      before: SnapshotBody;
      after: SnapshotBody;
    }
  | { kind: 'applied'; result: R; diff: Change[]; refusal: Refusal | null; forced: boolean; version: number | null }
  | { kind: 'replayed'; result: R; version: number | null };

class Rollback extends Error {}

/**
 * The action pipeline: in one transaction, compile the snapshot body before, apply the
 * change, compile after, check the safety rules on the pair, then either roll back (dry
 * run: the diff is the answer; refused: SAFETY_REFUSED naming the rule) or record the
 * audit (with `forced` when a refusal was overridden) and commit. Publication follows.
 */
export async function runChange<R>(ctx: ApiContext, req: ChangeRequest<R>): Promise<ChangeOutcome<R>> {
  let outcome: ChangeOutcome<R> | undefined;
  try {
    await ctx.db.transaction(async (txn) => {
      const tx = txn as unknown as Db;
      const replay = await req.prepare?.(tx);
      if (replay !== undefined) {
        outcome = { kind: 'replayed', result: replay, version: null };
        return;
      }
      const now = new Date();
      const before = await ctx.compile(tx, now);
      // The world before the change, read once: the judge sees what the controller would see.
      const world = await readWorld(tx, now, { body: before });
      const applied = await req.apply(tx);
      const after = await ctx.compile(tx, now);
      const diff = diffBodies(before, after);
      const verdict = await ctx.checkAction(world, req.proposed);
      const refusal = verdict.refusals[0] ?? null;
      if (req.dryRun) {
        outcome = { kind: 'dry-run', diff, refusal, predictedLoads: verdict.predictedLoads, before, after };
        throw new Rollback();
      }
      if (refusal?.rule === 'no-op') {
        // Not a safety question: nothing would change (and a route change would be counted), so force does not apply.
        throw new CatchmentError('ALREADY_IN_EFFECT', refusal.reason, { details: { ...refusal.details, refusal } });
      }
      if (refusal && !req.force) {
        throw new CatchmentError('SAFETY_REFUSED', `refused by safety rule "${refusal.rule}": ${refusal.reason}`, {
          details: {
            rule: refusal.rule,
            ...refusal.details,
            refusal,
            predictedLoads: verdict.predictedLoads,
            hint: 'force: true overrides; the override is audited',
          },
        });
      }
      const forced = req.force && refusal !== null;
      await recordAudit(tx, {
        actor: req.actor,
        ...applied.audit,
        reason: req.reason,
        forced,
        after: { ...(applied.audit.after as object), ...(forced ? { refusal } : {}) },
      });
      await req.applied?.(tx, { result: applied.result, diff, refusal, forced });
      outcome = { kind: 'applied', result: applied.result, diff, refusal, forced, version: null };
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  }
  if (!outcome) throw new CatchmentError('INTERNAL', 'action pipeline produced no outcome');
  if (outcome.kind !== 'dry-run') {
    await ctx.changed(req.actor);
    outcome.version = (await ctx.hub.latest())?.version ?? null;
  }
  return outcome;
}
