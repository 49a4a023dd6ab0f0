import { CatchmentError, type RunState, type StepState } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Memory } from './run-machine.ts';

export { revertActions } from '@catchment/db';

export type RunRow = typeof schema.playbookRuns.$inferSelect;
export type StepRow = typeof schema.runSteps.$inferSelect;
export type PlaybookRow = typeof schema.playbooks.$inferSelect;
/** A transaction or the database: the store's writes run inside the executor's transactions. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export const OPEN_STATES: RunState[] = ['triggered', 'acting', 'awaiting-approval', 'mitigated', 'recovering'];

export async function openRuns(db: Db): Promise<RunRow[]> {
  return db
    .select()
    .from(schema.playbookRuns)
    .where(isNull(schema.playbookRuns.endedAt))
    .orderBy(asc(schema.playbookRuns.id));
}

export async function runById(db: Db | Tx, id: number): Promise<RunRow | undefined> {
  const rows = await db.select().from(schema.playbookRuns).where(eq(schema.playbookRuns.id, id));
  return rows[0];
}

export async function stepsOf(db: Db | Tx, runId: number): Promise<StepRow[]> {
  return db.select().from(schema.runSteps).where(eq(schema.runSteps.runId, runId)).orderBy(asc(schema.runSteps.id));
}

export function memoryOf(run: RunRow): Memory {
  return run.machine as Memory;
}

/**
 * Moves a run to its next memory and state, only if no one else moved it first
 * (the `seq` in its memory is the version): a controller that lost its leadership
 * without knowing it cannot apply a stale decision.
 */
export async function updateRun(
  tx: Tx,
  run: RunRow,
  fields: {
    state?: RunState;
    memory: Memory;
    currentStep?: number;
    plan?: unknown;
    error?: string | null;
    endedAt?: Date;
  },
  now: Date,
): Promise<void> {
  const before = memoryOf(run).seq;
  const rows = await tx
    .update(schema.playbookRuns)
    .set({
      ...(fields.state ? { state: fields.state } : {}),
      machine: fields.memory,
      ...(fields.currentStep !== undefined ? { currentStep: fields.currentStep } : {}),
      ...(fields.plan !== undefined ? { plan: fields.plan } : {}),
      ...(fields.error !== undefined ? { error: fields.error } : {}),
      ...(fields.endedAt ? { endedAt: fields.endedAt } : {}),
      updatedAt: now,
    })
    .where(and(eq(schema.playbookRuns.id, run.id), sql`(${schema.playbookRuns.machine}->>'seq')::int = ${before}`))
    .returning({ id: schema.playbookRuns.id });
  if (rows.length !== 1) {
    throw new CatchmentError('CONFLICT', `run ${run.id} was changed by another controller (seq ${before})`);
  }
}

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
    .insert(schema.runSteps)
    .values(values)
    .onConflictDoUpdate({
      target: [schema.runSteps.runId, schema.runSteps.position, schema.runSteps.stage],
      set: update,
    });
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
    .update(schema.runSteps)
    .set({ state, ...extra })
    .where(
      and(eq(schema.runSteps.runId, runId), eq(schema.runSteps.position, position), eq(schema.runSteps.stage, stage)),
    );
}

/** Ids of the actions a stage wrote (kept in its run_steps params). */
export function stepActionIds(step: StepRow | undefined): number[] {
  const ids = (step?.params as { actionIds?: unknown } | undefined)?.actionIds;
  return Array.isArray(ids) ? ids.filter((x): x is number => typeof x === 'number') : [];
}
