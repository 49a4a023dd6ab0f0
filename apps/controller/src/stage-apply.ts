import { insertAction, revertActions, setStepState, type Tx, updateRun, upsertStep } from '@catchment/db';
import type { Refusal } from '@catchment/safety';
import { type PlannedAction, planStage } from './planner.ts';
import {
  describe,
  type ExecutorContext,
  type LoadedRun,
  next,
  notify,
  observe,
  type Reading,
  stepOf,
} from './run-context.ts';
import { nextStepStart } from './run-machine.ts';
import { memoryOf, stepActionIds } from './run-store.ts';
import type { Stage } from './stages.ts';

/** Escalation: planning a stage, judging it by the safety rules, proposing or applying it. */
export async function writeActions(
  tx: Tx,
  ctx: ExecutorContext,
  run: LoadedRun,
  stage: Stage,
  planned: PlannedAction[],
  seq: number,
): Promise<number[]> {
  const ids: number[] = [];
  for (const [k, a] of planned.entries()) {
    const row = await insertAction(
      tx,
      {
        kind: a.kind,
        edgeId: ctx.world.edgeIds.get(a.edge) ?? null,
        prefixId: a.prefix ? (ctx.world.prefixIds.get(a.prefix) ?? null) : null,
        params: a.params,
        // The revert condition (safety rule 7), besides expires_at, which the leader renews while the run is open.
        reason: `playbook ${run.playbook.name}, run ${run.row.id}, step ${stage.position + 1} (${describe(stage)}); reverted when the run recovers (exit threshold held ${Math.round(stage.dwellMs / 1000)} s) or at expiry`,
        actor: ctx.actor,
        source: 'automation',
        runId: run.row.id,
        idempotencyKey: `run:${run.row.id}:seq:${seq}:${k}`,
        createdAt: ctx.now,
        expiresAt: new Date(ctx.now.getTime() + ctx.actionTtlMs),
      },
      {
        at: ctx.now,
        reason: `playbook ${run.playbook.name}, run ${run.row.id}`,
        after: { kind: a.kind, edge: a.edge, prefix: a.prefix ?? null, params: a.params },
      },
    );
    ids.push(row.id);
    ctx.metrics.actions.inc({ kind: a.kind, op: 'apply' });
  }
  return ids;
}

/** Plans the stage: its step module's proposals, judged by packages/safety's judge (as the API judges operators). */
export function judge(ctx: ExecutorContext, run: LoadedRun, stage: Stage) {
  const plan = planStage(ctx.world, run.row.id, run.edge, stage, ctx.planner);
  return { plan, refusals: plan.refusals };
}

/**
 * Records a refused stage and when it is asked again. Missing data (a load or an agent not
 * reported) holds the run at this stage for as long as the signal holds, asking again with
 * backoff; a rule's refusal is asked again the same way up to `retry.attempts` times in all,
 * then the run escalates past the stage (the next step may not need what this one lacked).
 */
export async function refuse(
  ctx: ExecutorContext,
  run: LoadedRun,
  stage: Stage,
  refusals: Refusal[],
  predicted: unknown,
) {
  const memory = memoryOf(run.row);
  const missingData = refusals.every((r) => r.missingData === true);
  const attempts = (memory.retry?.index === stage.index ? memory.retry.attempts : 0) + 1;
  const escalate = !missingData && attempts >= ctx.retry.attempts;
  const retryAt = escalate
    ? null
    : new Date(ctx.now.getTime() + Math.min(ctx.retry.maxMs, ctx.retry.baseMs * 2 ** (attempts - 1)));
  await ctx.db.transaction(async (tx) => {
    await upsertStep(
      tx,
      run.row.id,
      { position: stage.position, stage: stage.stage, kind: stage.step.kind },
      {
        state: 'refused',
        params: {
          ...(stage.percent !== undefined ? { percent: stage.percent } : {}),
          attempts,
          retryAt: retryAt?.toISOString() ?? null,
        },
        predicted,
        refusal: refusals,
        startedAt: ctx.now,
        endedAt: ctx.now,
      },
    );
    await updateRun(
      tx,
      run.row,
      {
        state: 'acting',
        memory: next(
          memory,
          retryAt
            ? { retry: { index: stage.index, attempts, at: retryAt.toISOString() } }
            : { cursor: nextStepStart(run.stages, stage.index), retry: null },
        ),
      },
      ctx.now,
      ctx.actor,
    );
  });
  for (const r of refusals) ctx.metrics.refusals.inc({ rule: r.rule });
  // Notified on the first refusal and when the run gives the stage up, not on every retry.
  if (attempts > 1 && retryAt) return;
  const then = retryAt
    ? `asking again at ${retryAt.toISOString()}${missingData ? ' (missing data: holding at this step)' : ''}`
    : attempts > 1
      ? `refused ${attempts} times, escalating past it`
      : 'escalating past it';
  notify(
    ctx,
    run,
    'acting',
    'refused',
    `${describe(stage)} refused: ${refusals.map((r) => `${r.rule}: ${r.reason}`).join('; ')}; ${then}`,
    { refusals },
  );
}

export async function propose(ctx: ExecutorContext, run: LoadedRun, index: number): Promise<boolean> {
  const stage = run.stages[index];
  if (!stage) return false;
  const { plan, refusals } = judge(ctx, run, stage);
  if (refusals.length > 0) {
    await refuse(ctx, run, stage, refusals, plan.prediction);
    return false;
  }
  const memory = memoryOf(run.row);
  await ctx.db.transaction(async (tx) => {
    await upsertStep(
      tx,
      run.row.id,
      { position: stage.position, stage: stage.stage, kind: stage.step.kind },
      {
        state: 'awaiting-approval',
        params: { planned: plan.actions },
        predicted: plan.prediction,
        refusal: null,
        actionId: null,
        startedAt: ctx.now,
        endedAt: null,
        // A stage proposed again (after a cancellation) needs a fresh decision.
        decidedBy: null,
        decidedAt: null,
      },
    );
    await updateRun(
      tx,
      run.row,
      { state: 'awaiting-approval', currentStep: stage.position, memory: next(memory, {}) },
      ctx.now,
      ctx.actor,
    );
  });
  notify(
    ctx,
    run,
    'awaiting-approval',
    'approval-needed',
    `approve ${describe(stage)} (moves ${Math.round(plan.prediction.movedRps)} rps)`,
    {
      stage: { position: stage.position, stage: stage.stage },
      predicted: plan.prediction,
    },
  );
  return false;
}

export async function apply(
  ctx: ExecutorContext,
  run: LoadedRun,
  index: number,
  reading: Reading,
  dryRun: boolean,
): Promise<boolean> {
  const stage = run.stages[index];
  if (!stage) return false;
  const memory = memoryOf(run.row);
  const key = { position: stage.position, stage: stage.stage, kind: stage.step.kind };
  if (stage.step.kind === 'notify') {
    const message = stage.step.message;
    await ctx.db.transaction(async (tx) => {
      await upsertStep(tx, run.row.id, key, {
        state: 'sent',
        params: { message },
        startedAt: ctx.now,
        endedAt: ctx.now,
      });
      await updateRun(
        tx,
        run.row,
        { state: 'acting', currentStep: stage.position, memory: next(memory, { cursor: index + 1 }) },
        ctx.now,
        ctx.actor,
      );
    });
    notify(ctx, run, 'acting', 'message', message);
    return false;
  }
  const { plan, refusals } = judge(ctx, run, stage);
  if (refusals.length > 0) {
    await refuse(ctx, run, stage, refusals, plan.prediction);
    return false;
  }
  // The stage this one supersedes (the previous entry of a dns-shift schedule).
  const previous = stage.stage > 0 ? run.stages[index - 1] : undefined;
  const previousRow = previous && previous.position === stage.position ? stepOf(run, previous) : undefined;
  await ctx.db.transaction(async (tx) => {
    const seq = memory.seq + 1;
    const ids = dryRun ? [] : await writeActions(tx, ctx, run, stage, plan.actions, seq);
    if (previous && previousRow && (previousRow.state === 'applied' || previousRow.state === 'dry-run')) {
      await revertActions(tx, stepActionIds(previousRow), ctx.now, ctx.actor);
      await setStepState(tx, run.row.id, previous.position, previous.stage, 'superseded', {
        observed: observe(ctx, run, previousRow),
      });
    }
    await ctx.faults?.afterActionsWritten?.(run.row.id, stage);
    await upsertStep(tx, run.row.id, key, {
      state: dryRun ? 'dry-run' : 'applied',
      params: { planned: plan.actions, actionIds: ids },
      predicted: plan.prediction,
      observed: null,
      refusal: null,
      actionId: ids[0] ?? null,
      startedAt: ctx.now,
      endedAt: null,
    });
    await updateRun(
      tx,
      run.row,
      {
        state: 'acting',
        currentStep: stage.position,
        plan: plan.prediction,
        memory: next(memory, {
          cursor: index + 1,
          retry: null,
          phaseSince: ctx.now.toISOString(),
          valueAtPhase: reading.value,
          extended: false,
          exitSince: null,
        }),
      },
      ctx.now,
      ctx.actor,
    );
  });
  const verb = dryRun ? 'would apply (dry run)' : 'applied';
  notify(
    ctx,
    run,
    'acting',
    // 'started' went out when the run was created; every stage applied is an escalation.
    'escalated',
    `${verb} ${describe(stage)}, moving about ${Math.round(plan.prediction.movedRps)} rps`,
    {
      predicted: plan.prediction,
    },
  );
  return !dryRun;
}
