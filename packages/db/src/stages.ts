import { CatchmentError, type StepState } from '@catchment/core';
import { and, asc, eq } from 'drizzle-orm';
import { recordAudit } from './audit.ts';
import type { Db } from './connection.ts';
import * as schema from './schema.ts';

// The owner of the `run_steps` table: one row per stage of a run, the run's own history
// (planned, awaiting approval, applied, verified, undone, refused). The controller records
// its stages here; an operator's approval or rejection is decided here for the API and the
// controller alike, with its audit entry in the same transaction. The stages' actions are
// written (and audited) through actions.ts; a stage's own progress is the run's record,
// shown by /v1/runs, and is not copied into the audit log.

export type StepRow = typeof schema.runSteps.$inferSelect;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Reader = Pick<Db, 'select'>;

const s = schema.runSteps;

export async function stepsOf(db: Reader, runId: number): Promise<StepRow[]> {
  return db.select().from(s).where(eq(s.runId, runId)).orderBy(asc(s.id));
}

/** Records a stage (position, stage) of a run: inserted the first time, updated after. */
export async function upsertStep(
  tx: Tx,
  runId: number,
  key: { position: number; stage: number; kind: string },
  fields: {
    state: StepState;
    params?: unknown;
    predicted?: unknown;
    observed?: unknown;
    refusal?: unknown;
    actionId?: number | null;
    startedAt?: Date;
    endedAt?: Date | null;
    decidedBy?: string | null;
    decidedAt?: Date | null;
  },
): Promise<void> {
  const values = {
    runId,
    position: key.position,
    stage: key.stage,
    kind: key.kind,
    state: fields.state,
    params: fields.params ?? {},
    ...(fields.predicted !== undefined ? { predicted: fields.predicted } : {}),
    ...(fields.observed !== undefined ? { observed: fields.observed } : {}),
    ...(fields.refusal !== undefined ? { refusal: fields.refusal } : {}),
    ...(fields.actionId !== undefined ? { actionId: fields.actionId } : {}),
    ...(fields.startedAt ? { startedAt: fields.startedAt } : {}),
    ...(fields.endedAt !== undefined ? { endedAt: fields.endedAt } : {}),
    ...(fields.decidedBy !== undefined ? { decidedBy: fields.decidedBy } : {}),
    ...(fields.decidedAt !== undefined ? { decidedAt: fields.decidedAt } : {}),
  };
  const { runId: _r, position: _p, stage: _s, ...update } = values;
  await tx
    .insert(s)
    .values(values)
    .onConflictDoUpdate({ target: [s.runId, s.position, s.stage], set: update });
}

export async function setStepState(
  tx: Tx,
  runId: number,
  position: number,
  stage: number,
  state: StepState,
  extra: Partial<StepRow> = {},
): Promise<void> {
  await tx
    .update(s)
    .set({ state, ...extra })
    .where(and(eq(s.runId, runId), eq(s.position, position), eq(s.stage, stage)));
}

/** An aborted run's applied stages are undone (their actions are reverted with it). */
export async function revertAppliedStages(tx: Tx, runId: number, now: Date): Promise<void> {
  await tx
    .update(s)
    .set({ state: 'reverted', endedAt: now })
    .where(and(eq(s.runId, runId), eq(s.state, 'applied')));
}

/**
 * An operator's decision on the stage a run in mode 'approve' waits on (the approval
 * contract of packages/core runs.ts): awaiting-approval becomes approved or rejected, with
 * who and when, and the audit entry (`approve` / `reject` of the run, with the reason).
 * The controller applies an approved stage at its next tick, after checking the rules again.
 * NOT_FOUND for an unknown run, STATE_CONFLICT when it waits on no approval.
 */
export async function decideStage(
  db: Db,
  runId: number,
  decision: 'approved' | 'rejected',
  actor: string,
  reason: string,
  now = new Date(),
): Promise<StepRow> {
  return db.transaction(async (tx) => {
    const r = schema.playbookRuns;
    const [run] = await tx.select().from(r).where(eq(r.id, runId)).for('update');
    if (!run) throw new CatchmentError('NOT_FOUND', `run ${runId} does not exist`);
    const [step] = await tx
      .update(s)
      .set({ state: decision, decidedBy: actor, decidedAt: now })
      .where(and(eq(s.runId, runId), eq(s.state, 'awaiting-approval')))
      .returning();
    if (!step)
      throw new CatchmentError('STATE_CONFLICT', `run ${runId} (${run.state}) is not waiting for an approval`, {
        details: { state: run.state },
      });
    await recordAudit(tx, {
      at: now,
      actor,
      action: decision === 'approved' ? 'approve' : 'reject',
      objectType: 'run',
      objectId: String(runId),
      reason,
      before: { step: step.id, position: step.position, stage: step.stage, state: 'awaiting-approval' },
      after: { step: step.id, state: decision },
    });
    return step;
  });
}

/**
 * Carries an approval of the whole run (an audited `approve` of the run, see the
 * controller's run executor) over to the stage the run waits on; the audit entry is the
 * approval's own.
 */
export async function carryRunApproval(tx: Tx, runId: number, by: string, at: Date): Promise<void> {
  await tx
    .update(s)
    .set({ state: 'approved', decidedBy: by, decidedAt: at })
    .where(and(eq(s.runId, runId), eq(s.state, 'awaiting-approval')));
}
