import { type PlaybookStep, parseDuration } from '@catchment/core';
import type { Static } from 'typebox';

export type StepDef = Static<typeof PlaybookStep>;

/**
 * A playbook's steps flattened into the stages a run walks through: one per entry of
 * a dns-shift schedule (10 → 25 → 50 %), one for every other step.
 */
export interface Stage {
  index: number;
  /** Position of the step in the playbook, and the stage within it. */
  position: number;
  stage: number;
  step: StepDef;
  /** dns-shift: the percentage of this stage, and of the stage before it (0 for the first). */
  percent?: number;
  previousPercent?: number;
  /** How long to wait for the signal to improve before escalating. */
  verifyMs: number;
  /** Minimum absolute drop of the signal that earns the stage one more verify window. */
  improveBy?: number;
  /** Minimum time in place, and under the exit threshold, before it is undone. */
  dwellMs: number;
}

export interface StageDefaults {
  verifyMs: number;
  dwellMs: number;
}

export function stagesOf(steps: StepDef[], defaults: StageDefaults): Stage[] {
  const out: Stage[] = [];
  steps.forEach((step, position) => {
    const common = {
      position,
      step,
      verifyMs: step.kind === 'notify' ? 0 : step.verify ? parseDuration(step.verify.within) : defaults.verifyMs,
      dwellMs: step.dwell ? parseDuration(step.dwell) : defaults.dwellMs,
      ...(step.verify?.improveBy !== undefined ? { improveBy: step.verify.improveBy } : {}),
    };
    if (step.kind === 'dns-shift') {
      step.schedule.forEach((percent, stage) => {
        out.push({
          index: out.length,
          stage,
          percent,
          previousPercent: stage === 0 ? 0 : (step.schedule[stage - 1] ?? 0),
          ...common,
        });
      });
    } else {
      out.push({ index: out.length, stage: 0, ...common });
    }
  });
  return out;
}
