import type { RunState } from '@catchment/core';
import {
  carryRunApproval,
  latestAudit,
  revertActions,
  runActionIds,
  runById,
  setStepState,
  stepsOf,
  updateRun,
} from '@catchment/db';
import { automationBlocked, type Refusal } from '@catchment/safety';
import {
  type ExecutorContext,
  type LoadedRun,
  next,
  notify,
  observe,
  type Reading,
  statusesOf,
  stepOf,
} from './run-context.ts';
import { type Decision, decide, nextStepStart } from './run-machine.ts';
import { memoryOf } from './run-store.ts';
import { apply, propose } from './stage-apply.ts';
import { uncoveredStage, undo } from './stage-undo.ts';
import { effectOf, recordVerification } from './stage-verify.ts';
import type { Effect } from './steps/effects.ts';

export type { ExecutorContext, LoadedRun, Reading } from './run-context.ts';
export { renewExpiries } from './stage-undo.ts';

/**
 * Carries the machine's decisions out for one run until it has to wait (or a few
 * decisions have been made this tick). Each decision is one transaction: the
 * actions it writes, the run_steps it records and the run's new memory commit
 * together, so a crash repeats or skips nothing. Returns whether active actions changed.
 */
export async function advanceRun(ctx: ExecutorContext, initial: LoadedRun, reading: Reading): Promise<boolean> {
  let run = await takeRunApproval(ctx, initial);
  let changed = false;
  for (let i = 0; i < 12; i++) {
    const memory = memoryOf(run.row);
    const blocked = automationBlocked(ctx.world, run.edge);
    const decision = decide({
      state: run.row.state as RunState,
      mode: run.row.mode,
      memory,
      stages: run.stages,
      statuses: statusesOf(run),
      level: reading.level,
      value: reading.value,
      now: ctx.now,
      blocked: blocked.length > 0,
      ...uncoveredStage(ctx, run),
      ...withEffect(effectOf(ctx, run, reading)),
    });
    ctx.metrics.decisions.inc({ type: decision.type });
    if (decision.type === 'hold') {
      await hold(ctx, run, decision, blocked);
      break;
    }
    const effect = await execute(ctx, run, decision, reading);
    changed ||= effect;
    if (effect) ctx.world = await ctx.reloadWorld();
    const row = await runById(ctx.db, run.row.id);
    if (!row) break;
    run = { ...run, row, steps: await stepsOf(ctx.db, run.row.id) };
    if (row.endedAt) break;
  }
  return changed;
}

async function hold(
  ctx: ExecutorContext,
  run: LoadedRun,
  decision: Extract<Decision, { type: 'hold' }>,
  blocked: Refusal[],
) {
  const memory = memoryOf(run.row);
  let patch = decision.memory;
  // Why it holds is part of the run's record; written when the reason changes, not every tick.
  if (memory.hold?.reason !== decision.reason) {
    patch = { ...patch, hold: { reason: decision.reason, since: ctx.now.toISOString() } };
  }
  if (blocked.length > 0 && !memory.blockedNotified) {
    patch = { ...patch, blockedNotified: true };
    for (const r of blocked) ctx.metrics.refusals.inc({ rule: r.rule });
    notify(ctx, run, run.row.state, 'refused', `holding: ${blocked.map((r) => r.reason).join('; ')}`, {
      refusals: blocked,
    });
  } else if (blocked.length === 0 && memory.blockedNotified) {
    patch = { ...patch, blockedNotified: false };
  }
  if (!patch) return;
  await ctx.db.transaction(async (tx) => {
    await updateRun(tx, run.row, { memory: { ...memory, ...patch, seq: memory.seq + 1 } }, ctx.now, ctx.actor);
  });
}

async function execute(
  ctx: ExecutorContext,
  run: LoadedRun,
  d: Exclude<Decision, { type: 'hold' }>,
  reading: Reading,
): Promise<boolean> {
  const memory = memoryOf(run.row);
  const now = ctx.now;
  const dryRun = run.row.mode === 'dry-run';
  switch (d.type) {
    case 'extend':
      await ctx.db.transaction((tx) =>
        updateRun(
          tx,
          run.row,
          { memory: next(memory, { phaseSince: now.toISOString(), extended: true, valueAtPhase: reading.value }) },
          now,
          ctx.actor,
        ),
      );
      return false;
    case 'exhausted':
      await ctx.db.transaction((tx) =>
        updateRun(tx, run.row, { memory: next(memory, { exhaustedNotified: true }) }, now, ctx.actor),
      );
      notify(ctx, run, run.row.state, 'escalated', 'every step is in place and the signal is still over its threshold');
      return false;
    case 'mitigated': {
      const top = [...run.stages].reverse().find((s) => ['applied', 'dry-run'].includes(stepOf(run, s)?.state ?? ''));
      await ctx.db.transaction(async (tx) => {
        if (top)
          await setStepState(tx, run.row.id, top.position, top.stage, stepOf(run, top)?.state as 'applied', {
            observed: observe(ctx, run, stepOf(run, top)),
          });
        await updateRun(tx, run.row, { state: 'mitigated', memory: next(memory, {}) }, now, ctx.actor);
      });
      notify(
        ctx,
        run,
        'mitigated',
        'mitigated',
        `signal back under its enter threshold (value ${reading.value ?? 'n/a'})`,
      );
      return false;
    }
    case 'reescalate':
      await ctx.db.transaction((tx) =>
        updateRun(
          tx,
          run.row,
          {
            state: 'acting',
            memory: next(memory, {
              phaseSince: now.toISOString(),
              valueAtPhase: reading.value,
              extended: false,
              exitSince: null,
            }),
          },
          now,
          ctx.actor,
        ),
      );
      notify(
        ctx,
        run,
        'acting',
        'escalated',
        `signal over its enter threshold again (value ${reading.value ?? 'n/a'})`,
      );
      return false;
    case 'cancel': {
      const stage = run.stages[d.index];
      await ctx.db.transaction(async (tx) => {
        if (stage) await setStepState(tx, run.row.id, stage.position, stage.stage, 'cancelled', { endedAt: now });
        await updateRun(tx, run.row, { state: 'mitigated', memory: next(memory, {}) }, now, ctx.actor);
      });
      notify(
        ctx,
        run,
        'mitigated',
        'mitigated',
        'signal improved before the pending step was approved; it is cancelled',
      );
      return false;
    }
    case 'skip': {
      const stage = run.stages[d.index];
      await ctx.db.transaction(async (tx) => {
        if (stage) await setStepState(tx, run.row.id, stage.position, stage.stage, 'rejected', { endedAt: now });
        await updateRun(
          tx,
          run.row,
          { state: 'acting', memory: next(memory, { cursor: nextStepStart(run.stages, d.index) }) },
          now,
          ctx.actor,
        );
      });
      return false;
    }
    case 'resolve':
      await ctx.db.transaction(async (tx) => {
        // Safety net: nothing of a resolved run stays active.
        await revertActions(tx, await runActionIds(tx, run.row.id), now, ctx.actor);
        await updateRun(tx, run.row, { state: 'resolved', memory: next(memory, {}), endedAt: now }, now, ctx.actor);
      });
      ctx.metrics.runsEnded.inc({ state: 'resolved' });
      notify(ctx, run, 'resolved', 'resolved', 'signal held under its exit threshold; every step is undone');
      return true;
    case 'verified':
      return recordVerification(ctx, run, d);
    case 'propose':
      return propose(ctx, run, d.index);
    case 'apply':
      return apply(ctx, run, d.index, reading, dryRun);
    case 'undo':
      return undo(ctx, run, d.index, dryRun, d.emergency === true);
  }
}

/**
 * The API's `POST /v1/runs/:id/approve` approves a whole run (state 'approved', with an
 * audit record) rather than one stage: that approval is carried over to the stage the
 * run waits on, with the approving operator from the audit log, and the run waits as
 * before; the next decision applies the stage (or cancels it if the signal improved).
 */
async function takeRunApproval(ctx: ExecutorContext, run: LoadedRun): Promise<LoadedRun> {
  if (run.row.state !== 'approved') return run;
  const memory = memoryOf(run.row);
  const audit = await latestAudit(ctx.db, 'run', String(run.row.id), 'approve');
  await ctx.db.transaction(async (tx) => {
    await carryRunApproval(tx, run.row.id, audit?.actor ?? 'operator', audit?.at ?? ctx.now);
    await updateRun(tx, run.row, { state: 'awaiting-approval', memory: next(memory, {}) }, ctx.now, ctx.actor);
  });
  const row = await runById(ctx.db, run.row.id);
  return row ? { ...run, row, steps: await stepsOf(ctx.db, run.row.id) } : run;
}

const withEffect = (effect: Effect | undefined) => (effect ? { effect } : {});
