import type { SheddingActionKind } from '@catchment/core';
import { revertActions, setStepState, updateRun } from '@catchment/db';
import type { PlannedAction } from './planner.ts';
import {
  describe,
  type ExecutorContext,
  type LoadedRun,
  next,
  notify,
  observe,
  type Reading,
  statusesOf,
  stepOf,
} from './run-context.ts';
import { activeStages, type Decision } from './run-machine.ts';
import { memoryOf, stepActionIds } from './run-store.ts';
import {
  communitiesOn,
  dsrInMapsAndLoadFell,
  type Effect,
  type EffectCheck,
  loadFell,
  prefixGone,
} from './steps/effects.ts';

/** What each step kind expects of its change (steps/effects.ts). */
const STEP_EFFECTS: Record<SheddingActionKind, EffectCheck> = {
  'dns-shift': loadFell,
  'withdraw-unicast': prefixGone,
  communities: communitiesOn,
  'dsr-shed': dsrInMapsAndLoadFell,
};

/**
 * The effect of the run's top applied stage on the world as observed now; undefined when there
 * is nothing to check (no applied stage, a notify step, dry-run mode: nothing was changed).
 */
export function effectOf(ctx: ExecutorContext, run: LoadedRun, reading: Reading): Effect | undefined {
  if (run.row.mode === 'dry-run') return undefined;
  const statuses = statusesOf(run);
  const top = activeStages({ statuses }).at(-1);
  const stage = top === undefined ? undefined : run.stages[top];
  const row = stage ? stepOf(run, stage) : undefined;
  if (!stage || !row || stage.step.kind === 'notify') return undefined;
  const memory = memoryOf(run.row);
  const params = row.params as { planned?: PlannedAction[] };
  return STEP_EFFECTS[stage.step.kind]({
    world: ctx.world,
    edge: run.edge,
    stage,
    planned: params.planned ?? [],
    predicted: (row.predicted ?? null) as Parameters<EffectCheck>[0]['predicted'],
    appliedAt: row.startedAt,
    signal: { atApply: memory.valueAtPhase, now: reading.value },
  });
}

/**
 * Records a stage's verification on its row (`observed.verification`), and rolls it back when it
 * failed and its step says so; either way the run escalates next if the signal still calls for it.
 */
export async function recordVerification(
  ctx: ExecutorContext,
  run: LoadedRun,
  d: Extract<Decision, { type: 'verified' }>,
): Promise<boolean> {
  const stage = run.stages[d.index];
  const row = stage ? stepOf(run, stage) : undefined;
  if (!stage || !row) return false;
  const memory = memoryOf(run.row);
  const verification = { at: ctx.now.toISOString(), ...d.effect };
  await ctx.db.transaction(async (tx) => {
    if (d.rollback) {
      const ids = stepActionIds(row);
      await revertActions(tx, ids, ctx.now, ctx.actor);
      ctx.metrics.actions.inc({ kind: stage.step.kind, op: 'revert' }, ids.length);
    }
    await setStepState(
      tx,
      run.row.id,
      stage.position,
      stage.stage,
      d.rollback ? 'rolled-back' : (row.state as 'applied'),
      {
        observed: { ...observe(ctx, run, row), verification },
        ...(d.rollback ? { endedAt: ctx.now } : {}),
      },
    );
    await updateRun(
      tx,
      run.row,
      { memory: next(memory, { verified: [...(memory.verified ?? []), d.index] }) },
      ctx.now,
      ctx.actor,
    );
  });
  ctx.metrics.verifications.inc({ kind: stage.step.kind, result: d.effect.state });
  if (d.effect.state === 'failed') {
    notify(
      ctx,
      run,
      run.row.state,
      'refused',
      `${describe(stage)} did not do what it was for: ${d.effect.reason}${d.rollback ? '; rolled back' : ''}`,
      { verification },
    );
  }
  return d.rollback;
}
