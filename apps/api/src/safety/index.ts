import type { ReadWorld } from '@catchment/db';
import { type EngineOptions, judge, type Proposal, type Refusal, type Verdict } from '@catchment/safety';

export type { Refusal };

/** The action as an operator proposes it (the source is always an operator here). */
export type ProposedAction = Omit<Proposal, 'source' | 'runId'>;

/**
 * The safety step of the action pipeline: given the world before the change (packages/db
 * `readWorld`, in the change's transaction) and the proposed action, packages/safety's
 * verdict. Tests can replace it through `buildApi({ checkAction })`.
 */
export type CheckAction = (world: ReadWorld, action: ProposedAction) => Verdict | Promise<Verdict>;

/**
 * Every action kind, judged by packages/safety's `judge`: the same function, world
 * reader and prediction the controller judges its playbook steps with, so an operator
 * action and the identical playbook step get the same verdict and predicted loads.
 */
export function checkActionRules(opts?: EngineOptions): CheckAction {
  return (world, action) => judge(world, [{ ...action, source: 'operator' }], opts);
}
