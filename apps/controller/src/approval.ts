import { CatchmentError } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { and, eq, isNull } from 'drizzle-orm';
import { revertActions } from './run-store.ts';

/**
 * What the API calls for operators (the contract of packages/core runs.ts): approve or
 * reject the stage a run in mode 'approve' waits on, and abort a run. The controller
 * applies an approved stage at its next tick, after checking the safety rules again.
 */
export async function decideStage(
  db: Db,
  runId: number,
  decision: 'approved' | 'rejected',
  actor: string,
  now = new Date(),
) {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(schema.runSteps)
      .set({ state: decision, decidedBy: actor, decidedAt: now })
      .where(and(eq(schema.runSteps.runId, runId), eq(schema.runSteps.state, 'awaiting-approval')))
      .returning({ id: schema.runSteps.id, position: schema.runSteps.position, stage: schema.runSteps.stage });
    const step = rows[0];
    if (!step) throw new CatchmentError('CONFLICT', `run ${runId} is not waiting for an approval`);
    await tx.insert(schema.auditLog).values({
      at: now,
      actor,
      action: decision === 'approved' ? 'approve' : 'reject',
      objectType: 'run_step',
      objectId: String(step.id),
      reason: `${decision} step ${step.position + 1} stage ${step.stage} of run ${runId}`,
      before: { state: 'awaiting-approval' },
      after: { state: decision },
    });
    return step;
  });
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
