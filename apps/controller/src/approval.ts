import { CatchmentError } from '@catchment/core';
import { type Db, recordAudit, schema } from '@catchment/db';
import { and, eq } from 'drizzle-orm';

export { abortRun } from '@catchment/db';

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
    await recordAudit(tx, {
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
