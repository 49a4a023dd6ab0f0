import type { RunRow, StepRow, schema } from '@catchment/db';
import type { Memory } from './run-machine.ts';

// The controller's view of runs and stages: packages/db (runs.ts, stages.ts) owns the
// tables; this adds what only the controller knows, its memory and its stages' action ids.

// controller.ts reads these here.
export { openRuns, type RunRow, stepsOf } from '@catchment/db';

export type PlaybookRow = typeof schema.playbooks.$inferSelect;

export function memoryOf(run: RunRow): Memory {
  return run.machine as Memory;
}

/** Ids of the actions a stage wrote (kept in its run_steps params). */
export function stepActionIds(step: StepRow | undefined): number[] {
  const ids = (step?.params as { actionIds?: unknown } | undefined)?.actionIds;
  return Array.isArray(ids) ? ids.filter((x): x is number => typeof x === 'number') : [];
}
