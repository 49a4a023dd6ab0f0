import type { RunState } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import {
  automationBlocked,
  checkRouteBudget,
  edgeUsable,
  evaluateChange,
  type Refusal,
  type RoutingGuard,
  type SignalLevel,
} from '@catchment/safety';
import { and, eq, gt, inArray, isNull, lt } from 'drizzle-orm';
import type { ControllerMetrics } from './metrics.ts';
import type { ControllerWorld } from './model.ts';
import type { Notifier, NotifyEvent } from './notifier.ts';
import { type PlannedAction, type PlannerOptions, planStage } from './planner.ts';
import { type Decision, decide, type Memory, nextStepStart, type StageStatus } from './run-machine.ts';
import {
  memoryOf,
  type PlaybookRow,
  type RunRow,
  revertActions,
  runById,
  type StepRow,
  setStepState,
  stepActionIds,
  stepsOf,
  type Tx,
  updateRun,
  upsertStep,
} from './run-store.ts';
import type { Stage } from './stages.ts';

export interface Reading {
  level: SignalLevel;
  value: number | null;
}

export interface ExecutorContext {
  db: Db;
  now: Date;
  actor: string;
  world: ControllerWorld;
  /** Reloads the world after a change (the next decision of the same tick sees it). */
  reloadWorld(): Promise<ControllerWorld>;
  guard: RoutingGuard;
  notifier: Notifier;
  metrics: ControllerMetrics;
  planner: PlannerOptions;
  /** Lifetime of an automated action; the leader renews it while the run is open. */
  actionTtlMs: number;
  /** Test hook: called inside the transaction after a stage's actions are written. */
  faults?: { afterActionsWritten?: (runId: number, stage: Stage) => void | Promise<void> };
}

export interface LoadedRun {
  row: RunRow;
  playbook: PlaybookRow;
  edge: string;
  stages: Stage[];
  steps: StepRow[];
}

function stepOf(run: LoadedRun, stage: Stage): StepRow | undefined {
  return run.steps.find((s) => s.position === stage.position && s.stage === stage.stage);
}

function statusesOf(run: LoadedRun): Map<number, StageStatus> {
  const out = new Map<number, StageStatus>();
  for (const st of run.stages) {
    const row = stepOf(run, st);
    if (row) out.set(st.index, { state: row.state as StageStatus['state'], startedAt: row.startedAt });
  }
  return out;
}

function notify(
  ctx: ExecutorContext,
  run: LoadedRun,
  state: string,
  event: NotifyEvent,
  text: string,
  details?: Record<string, unknown>,
) {
  ctx.notifier.notify({
    event,
    text,
    run: { id: run.row.id, playbook: run.playbook.name, edge: run.edge, state, mode: run.row.mode },
    ...(details ? { details } : {}),
  });
  ctx.metrics.notifications.inc({ event });
}

function describe(stage: Stage): string {
  const s = stage.step;
  if (s.kind === 'dns-shift') return `dns-shift ${stage.percent} %`;
  if (s.kind === 'communities') return `communities ${s.intents.join(', ')} via ${s.transit ?? 'every transit'}`;
  if (s.kind === 'dsr-shed') return `dsr-shed ${s.fraction}`;
  return s.kind;
}

/** Observed loads of the source edge and the stage's predicted targets, now. */
function observe(ctx: ExecutorContext, run: LoadedRun, step: StepRow | undefined): Record<string, unknown> {
  const predicted = (step?.predicted ?? {}) as { targets?: { edge: string }[] };
  const load = (name: string) => {
    const e = ctx.world.edges.find((x) => x.name === name);
    return {
      edge: name,
      loadRps: e?.loadRps ?? null,
      utilisation: e && e.loadRps !== null ? e.loadRps / e.capacityRps : null,
    };
  };
  return {
    at: ctx.now.toISOString(),
    source: load(run.edge),
    targets: (predicted.targets ?? []).map((t) => load(t.edge)),
  };
}

/**
 * Carries the machine's decisions out for one run until it has to wait (or a few
 * decisions have been made this tick). Each decision is one transaction: the
 * actions it writes, the run_steps it records and the run's new memory commit
 * together, so a crash repeats or skips nothing. Returns whether active actions changed.
 */
export async function advanceRun(ctx: ExecutorContext, initial: LoadedRun, reading: Reading): Promise<boolean> {
  let run = initial;
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

/**
 * The first applied withdraw-unicast stage whose prefix has no covering route left: no
 * other usable edge announces its supernet any more (an operator took them down...).
 * Fewer than K announcers with headroom is not enough to re-announce: loads move, and
 * re-announcing on every wobble would flap the prefix.
 */
function uncoveredStage(ctx: ExecutorContext, run: LoadedRun): { uncovered?: number } {
  const { world } = ctx;
  for (const stage of run.stages) {
    const row = stepOf(run, stage);
    if (stage.step.kind !== 'withdraw-unicast' || row?.state !== 'applied') continue;
    const ids = stepActionIds(row);
    for (const a of world.actions) {
      if (a.id === undefined || !ids.includes(a.id) || !a.prefix) continue;
      const supernet = world.prefixes.find((p) => p.cidr === world.prefixes.find((x) => x.cidr === a.prefix)?.supernet);
      const covering = (supernet?.announcers ?? []).filter((name) => {
        const e = world.edges.find((x) => x.name === name);
        const withdrawn = world.actions.some(
          (w) => w.kind === 'withdraw-unicast' && w.prefix === supernet?.cidr && w.edge === name,
        );
        return name !== run.edge && e !== undefined && edgeUsable(e) && !withdrawn;
      });
      if (covering.length === 0) return { uncovered: stage.index };
    }
  }
  return {};
}

async function hold(
  ctx: ExecutorContext,
  run: LoadedRun,
  decision: Extract<Decision, { type: 'hold' }>,
  blocked: Refusal[],
) {
  const memory = memoryOf(run.row);
  let patch = decision.memory;
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
    await updateRun(tx, run.row, { memory: { ...memory, ...patch, seq: memory.seq + 1 } }, ctx.now);
  });
}

function next(memory: Memory, patch: Partial<Memory>): Memory {
  return { ...memory, ...patch, seq: memory.seq + 1 };
}

async function writeActions(
  tx: Tx,
  ctx: ExecutorContext,
  run: LoadedRun,
  stage: Stage,
  planned: PlannedAction[],
  seq: number,
): Promise<number[]> {
  const ids: number[] = [];
  for (const [k, a] of planned.entries()) {
    const params = a.params;
    const rows = await tx
      .insert(schema.actions)
      .values({
        kind: a.kind,
        edgeId: ctx.world.edgeIds.get(a.edge) ?? null,
        prefixId: a.prefix ? (ctx.world.prefixIds.get(a.prefix) ?? null) : null,
        params,
        // The revert condition (safety rule 7), besides expires_at, which the leader renews while the run is open.
        reason: `playbook ${run.playbook.name}, run ${run.row.id}, step ${stage.position + 1} (${describe(stage)}); reverted when the run recovers (exit threshold held ${Math.round(stage.dwellMs / 1000)} s) or at expiry`,
        actor: ctx.actor,
        source: 'automation',
        runId: run.row.id,
        idempotencyKey: `run:${run.row.id}:seq:${seq}:${k}`,
        createdAt: ctx.now,
        expiresAt: new Date(ctx.now.getTime() + ctx.actionTtlMs),
      })
      .returning({ id: schema.actions.id });
    const id = rows[0]?.id;
    if (id === undefined) continue;
    ids.push(id);
    ctx.metrics.actions.inc({ kind: a.kind, op: 'apply' });
    await tx.insert(schema.auditLog).values({
      at: ctx.now,
      actor: ctx.actor,
      action: 'apply',
      objectType: 'action',
      objectId: String(id),
      reason: `playbook ${run.playbook.name}, run ${run.row.id}`,
      before: null,
      after: { kind: a.kind, edge: a.edge, prefix: a.prefix ?? null, params },
    });
  }
  return ids;
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
        ),
      );
      return false;
    case 'exhausted':
      await ctx.db.transaction((tx) =>
        updateRun(tx, run.row, { memory: next(memory, { exhaustedNotified: true }) }, now),
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
        await updateRun(tx, run.row, { state: 'mitigated', memory: next(memory, {}) }, now);
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
        await updateRun(tx, run.row, { state: 'mitigated', memory: next(memory, {}) }, now);
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
        );
      });
      return false;
    }
    case 'resolve':
      await ctx.db.transaction(async (tx) => {
        // Safety net: nothing of a resolved run stays active.
        const leftovers = await tx
          .select({ id: schema.actions.id })
          .from(schema.actions)
          .where(sqlActiveOfRun(run.row.id));
        await revertActions(
          tx,
          leftovers.map((r) => r.id),
          now,
          ctx.actor,
        );
        await updateRun(tx, run.row, { state: 'resolved', memory: next(memory, {}), endedAt: now }, now);
      });
      ctx.metrics.runsEnded.inc({ state: 'resolved' });
      notify(ctx, run, 'resolved', 'resolved', 'signal held under its exit threshold; every step is undone');
      return true;
    case 'propose':
      return propose(ctx, run, d.index);
    case 'apply':
      return apply(ctx, run, d.index, reading, dryRun);
    case 'undo':
      return undo(ctx, run, d.index, dryRun, d.emergency === true);
  }
}

function sqlActiveOfRun(runId: number) {
  return and(eq(schema.actions.runId, runId), isNull(schema.actions.revertedAt));
}

/** Plans the stage and runs every safety rule on it. */
function judge(ctx: ExecutorContext, run: LoadedRun, stage: Stage) {
  const plan = planStage(ctx.world, run.row.id, run.edge, stage, ctx.planner);
  const refusals = [...plan.refusals];
  for (const change of plan.changes) refusals.push(...evaluateChange(ctx.world, change, ctx.guard));
  return { plan, refusals };
}

async function refuse(ctx: ExecutorContext, run: LoadedRun, stage: Stage, refusals: Refusal[], predicted: unknown) {
  const memory = memoryOf(run.row);
  await ctx.db.transaction(async (tx) => {
    await upsertStep(
      tx,
      run.row.id,
      { position: stage.position, stage: stage.stage, kind: stage.step.kind },
      {
        state: 'refused',
        params: { ...(stage.percent !== undefined ? { percent: stage.percent } : {}) },
        predicted,
        refusal: refusals,
        startedAt: ctx.now,
        endedAt: ctx.now,
      },
    );
    await updateRun(
      tx,
      run.row,
      { state: 'acting', memory: next(memory, { cursor: nextStepStart(run.stages, stage.index) }) },
      ctx.now,
    );
  });
  for (const r of refusals) ctx.metrics.refusals.inc({ rule: r.rule });
  notify(
    ctx,
    run,
    'acting',
    'refused',
    `${describe(stage)} refused: ${refusals.map((r) => `${r.rule}: ${r.reason}`).join('; ')}`,
    {
      refusals,
    },
  );
}

async function propose(ctx: ExecutorContext, run: LoadedRun, index: number): Promise<boolean> {
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

async function apply(
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
          phaseSince: ctx.now.toISOString(),
          valueAtPhase: reading.value,
          extended: false,
          exitSince: null,
        }),
      },
      ctx.now,
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

async function undo(
  ctx: ExecutorContext,
  run: LoadedRun,
  index: number,
  dryRun: boolean,
  emergency: boolean,
): Promise<boolean> {
  const stage = run.stages[index];
  if (!stage) return false;
  const memory = memoryOf(run.row);
  const row = stepOf(run, stage);
  const ids = stepActionIds(row);
  // A restore changes routes too: it waits for the route-change budget (never exceeds it),
  // unless the withdrawn prefix lost its covering route: a route beats damping.
  if (!dryRun && !emergency && (stage.step.kind === 'withdraw-unicast' || stage.step.kind === 'communities')) {
    const active = ctx.world.actions.filter((a) => a.id !== undefined && ids.includes(a.id));
    const refusals = active.flatMap((a) =>
      checkRouteBudget(ctx.world, {
        kind: stage.step.kind as 'communities',
        edge: run.edge,
        source: 'automation',
        direction: 'restore',
        params: a.params,
        moves: [],
        ...(a.prefix ? { prefix: a.prefix } : {}),
      }),
    );
    if (refusals.length > 0) {
      for (const r of refusals) ctx.metrics.refusals.inc({ rule: r.rule });
      return false;
    }
  }
  // Undoing a later dns-shift stage reinstates the one before it (50 → 25 → 10 → 0 %).
  const previous = stage.stage > 0 ? run.stages[index - 1] : undefined;
  const previousRow = previous && previous.position === stage.position ? stepOf(run, previous) : undefined;
  const reinstate = previous && previousRow?.state === 'superseded' ? previous : undefined;
  let planned: PlannedAction[] = [];
  if (reinstate && !dryRun) {
    const targets = stepActionParams(previousRow)?.targets ?? [];
    planned = [{ kind: 'dns-shift', edge: run.edge, params: { percent: reinstate.percent, targets } }];
  }
  await ctx.db.transaction(async (tx) => {
    const seq = memory.seq + 1;
    await revertActions(tx, ids, ctx.now, ctx.actor);
    ctx.metrics.actions.inc({ kind: stage.step.kind, op: 'revert' }, ids.length);
    await setStepState(tx, run.row.id, stage.position, stage.stage, 'reverted', {
      endedAt: ctx.now,
      observed: observe(ctx, run, row),
    });
    if (reinstate && previousRow) {
      const newIds = dryRun ? [] : await writeActions(tx, ctx, run, reinstate, planned, seq);
      await setStepState(tx, run.row.id, reinstate.position, reinstate.stage, dryRun ? 'dry-run' : 'applied', {
        params: { planned, actionIds: newIds },
        actionId: newIds[0] ?? null,
      });
    }
    await updateRun(
      tx,
      run.row,
      {
        state: 'recovering',
        currentStep: stage.position,
        memory: next(memory, { cursor: index, phaseSince: ctx.now.toISOString(), exhaustedNotified: false }),
      },
      ctx.now,
    );
  });
  notify(
    ctx,
    run,
    'recovering',
    'recovering',
    `${dryRun ? 'would undo' : 'undid'} ${describe(stage)}${emergency ? ': its prefix lost the covering route' : ''}`,
  );
  return !dryRun;
}

/** Params of the first action a stage planned (to reinstate it as it was). */
function stepActionParams(row: StepRow | undefined): Record<string, unknown> | undefined {
  const planned = (row?.params as { planned?: { params?: Record<string, unknown> }[] } | undefined)?.planned;
  return planned?.[0]?.params;
}

/** Actions of open runs whose expiry comes closer than half their lifetime are renewed. */
export async function renewExpiries(db: Db, runIds: number[], now: Date, ttlMs: number): Promise<void> {
  if (runIds.length === 0) return;
  await db
    .update(schema.actions)
    .set({ expiresAt: new Date(now.getTime() + ttlMs) })
    .where(
      and(
        inArray(schema.actions.runId, runIds),
        isNull(schema.actions.revertedAt),
        gt(schema.actions.expiresAt, now),
        lt(schema.actions.expiresAt, new Date(now.getTime() + ttlMs / 2)),
      ),
    );
}
