import type { Proposal, Refusal } from '@catchment/safety';
import type { ControllerWorld } from '../model.ts';
import type { Stage } from '../stages.ts';

/** What a step kind's module turns a stage into: the actions it proposes, or why it cannot. */
export interface StepChange {
  proposals: Proposal[];
  /** Refusals of the step itself (nothing to withdraw, an unknown transit...). */
  refusals: Refusal[];
}

export type StepPlanner = (world: ControllerWorld, runId: number, edge: string, stage: Stage) => StepChange;
