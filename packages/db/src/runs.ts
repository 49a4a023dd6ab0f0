import { CatchmentError } from '@catchment/core';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { revertActions, runActionIds } from './actions.ts';
import { recordAudit } from './audit.ts';
import type { Db } from './connection.ts';
import * as schema from './schema.ts';
import { revertAppliedStages } from './stages.ts';

// The owner of the `playbook_runs` table: the controller starts and moves runs here, the
// API's abort ends them here, and each of these writes records its audit entry in the same
// transaction (start, every change of state, abort). A run's stages are in stages.ts.

export type RunRow = typeof schema.playbookRuns.$inferSelect;
/** A transaction (the controller's writes run inside its decisions' transactions). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** What every run's memory has: `seq`, bumped by every transition (the run's version). */
export interface RunMemory {
  seq: number;
}
type Reader = Pick<Db, 'select'>;

const r = schema.playbookRuns;

export async function openRuns(db: Reader): Promise<RunRow[]> {
  return db.select().from(r).where(isNull(r.endedAt)).orderBy(asc(r.id));
}

export async function runById(db: Reader, id: number): Promise<RunRow | undefined> {
  const rows = await db.select().from(r).where(eq(r.id, id));
  return rows[0];
}

/**
 * Starts a run of a playbook on an edge (state 'triggered') with its audit entry, unless
 * one is open already (at most one open run per playbook and edge, whichever replica asks):
 * returns its id, or undefined when another is open.
 */
export async function startRun(
  db: Db,
  values: Pick<typeof r.$inferInsert, 'playbookId' | 'edgeId' | 'mode' | 'trigger' | 'machine'>,
  audit: { actor: string; reason: string; after: unknown; at: Date },
): Promise<number | undefined> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .insert(r)
      .values({ ...values, state: 'triggered', startedAt: audit.at, updatedAt: audit.at })
      .onConflictDoNothing()
      .returning({ id: r.id });
    const id = rows[0]?.id;
    if (id === undefined) return undefined;
    await recordAudit(tx, {
      at: audit.at,
      actor: audit.actor,
      action: 'start',
      objectType: 'playbook_run',
      objectId: String(id),
      reason: audit.reason,
      after: audit.after,
    });
    return id;
  });
}

/**
 * Moves a run to its next memory and state, only if no one else moved it first
 * (the `seq` in its memory is the version): a controller that lost its leadership
 * without knowing it cannot apply a stale decision. A change of state is audited
 * (`transition`, by `actor`) in the same transaction.
 */
export async function updateRun(
  tx: Tx,
  run: RunRow,
  fields: {
    state?: string;
    memory: RunMemory;
    currentStep?: number;
    plan?: unknown;
    error?: string | null;
    endedAt?: Date;
  },
  now: Date,
  actor: string,
): Promise<void> {
  const before = (run.machine as RunMemory).seq;
  const rows = await tx
    .update(r)
    .set({
      ...(fields.state ? { state: fields.state } : {}),
      machine: fields.memory,
      ...(fields.currentStep !== undefined ? { currentStep: fields.currentStep } : {}),
      ...(fields.plan !== undefined ? { plan: fields.plan } : {}),
      ...(fields.error !== undefined ? { error: fields.error } : {}),
      ...(fields.endedAt ? { endedAt: fields.endedAt } : {}),
      updatedAt: now,
    })
    .where(and(eq(r.id, run.id), sql`(${r.machine}->>'seq')::int = ${before}`))
    .returning({ id: r.id });
  if (rows.length !== 1) {
    throw new CatchmentError('CONFLICT', `run ${run.id} was changed by another controller (seq ${before})`);
  }
  if (fields.state && fields.state !== run.state)
    await recordAudit(tx, {
      at: now,
      actor,
      action: 'transition',
      objectType: 'playbook_run',
      objectId: String(run.id),
      reason: fields.error ?? `run ${run.id}: ${run.state} → ${fields.state}`,
      before: { state: run.state },
      after: { state: fields.state, ...(fields.endedAt ? { endedAt: fields.endedAt.toISOString() } : {}) },
    });
}

/** Ends a run at once: its active actions are reverted (by the operator) and it is aborted. */
export async function abortRun(db: Db, runId: number, actor: string, reason: string, now = new Date()): Promise<void> {
  await db.transaction(async (tx) => {
    const run = (await tx.select().from(r).where(eq(r.id, runId)).for('update'))[0];
    if (!run) throw new CatchmentError('NOT_FOUND', `run ${runId} does not exist`);
    if (run.endedAt)
      throw new CatchmentError('STATE_CONFLICT', `run ${runId} has already ended (${run.state})`, {
        details: { state: run.state },
      });
    await revertActions(tx, await runActionIds(tx, runId), now, actor);
    const memory = run.machine as RunMemory | null;
    await tx
      .update(r)
      .set({
        state: 'aborted',
        error: reason,
        endedAt: now,
        updatedAt: now,
        machine: { ...memory, seq: (memory?.seq ?? 0) + 1 },
      })
      .where(eq(r.id, runId));
    await revertAppliedStages(tx, runId, now);
    await recordAudit(tx, {
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
