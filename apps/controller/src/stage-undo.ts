import { type Db, renewRunActions, revertActions, type StepRow, setStepState, updateRun } from '@catchment/db';
import { edgeUsable } from '@catchment/safety';
import type { PlannedAction } from './planner.ts';
import { describe, type ExecutorContext, type LoadedRun, next, notify, observe, stepOf } from './run-context.ts';
import { memoryOf, stepActionIds } from './run-store.ts';
import { writeActions } from './stage-apply.ts';

/** Recovery: undoing a stage (and the routing emergency that forces it), and action expiries. */
export async function undo(
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
  // A restore is never blocked by the route-change budget: the shed reserved its change
  // (packages/safety checkRouteBudget), and undoing always has to be possible.
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
      ctx.actor,
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
export function stepActionParams(row: StepRow | undefined): Record<string, unknown> | undefined {
  const planned = (row?.params as { planned?: { params?: Record<string, unknown> }[] } | undefined)?.planned;
  return planned?.[0]?.params;
}

/**
 * The first applied withdraw-unicast stage whose prefix has no covering route left: no
 * other usable edge announces its supernet any more (an operator took them down...).
 * Fewer than K announcers with headroom is not enough to re-announce: loads move, and
 * re-announcing on every wobble would flap the prefix.
 */
export function uncoveredStage(ctx: ExecutorContext, run: LoadedRun): { uncovered?: number } {
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

/** Actions of open runs whose expiry comes closer than half their lifetime are renewed (packages/db). */
export async function renewExpiries(db: Db, runIds: number[], now: Date, ttlMs: number): Promise<void> {
  await renewRunActions(db, runIds, now, ttlMs);
}
