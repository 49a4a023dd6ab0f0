import { CatchmentError } from '@catchment/core';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { recordAudit } from './audit.ts';
import type { Db } from './connection.ts';
import * as schema from './schema.ts';

// Runs and their actions as both the controller and the API's run routes change them: one
// owner of these writes, so an operator's abort and the controller's undo record the same rows.

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Reverts actions that are still active; returns the ids it reverted (idempotent). */
export async function revertActions(tx: Tx, ids: number[], now: Date, by: string): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .update(schema.actions)
    .set({ revertedAt: now, revertedBy: by })
    .where(and(inArray(schema.actions.id, ids), isNull(schema.actions.revertedAt)))
    .returning({ id: schema.actions.id, kind: schema.actions.kind, params: schema.actions.params });
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

/** Ends a run at once: its active actions are reverted (by the operator) and it is aborted. */
export async function abortRun(db: Db, runId: number, actor: string, reason: string, now = new Date()): Promise<void> {
  await db.transaction(async (tx) => {
    const run = (await tx.select().from(schema.playbookRuns).where(eq(schema.playbookRuns.id, runId)))[0];
    if (!run) throw new CatchmentError('NOT_FOUND', `run ${runId} does not exist`);
    if (run.endedAt) throw new CatchmentError('CONFLICT', `run ${runId} has already ended (${run.state})`);
    const active = await tx
      .select({ id: schema.actions.id })
      .from(schema.actions)
      .where(and(eq(schema.actions.runId, runId), isNull(schema.actions.revertedAt)));
    await revertActions(
      tx,
      active.map((a) => a.id),
      now,
      actor,
    );
    const memory = run.machine as { seq: number } | null;
    await tx
      .update(schema.playbookRuns)
      .set({
        state: 'aborted',
        error: reason,
        endedAt: now,
        updatedAt: now,
        machine: { ...memory, seq: (memory?.seq ?? 0) + 1 },
      })
      .where(eq(schema.playbookRuns.id, runId));
    await tx
      .update(schema.runSteps)
      .set({ state: 'reverted', endedAt: now })
      .where(and(eq(schema.runSteps.runId, runId), eq(schema.runSteps.state, 'applied')));
    await tx.insert(schema.auditLog).values({
      at: now,
      actor,
      action: 'abort',
      objectType: 'playbook_run',
      objectId: String(runId),
      reason,
      before: { state: run.state },
      after: { state: 'aborted' },
    });
  });
}
