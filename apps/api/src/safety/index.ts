import type { SnapshotBody } from '@catchment/core';
import type { Db } from '@catchment/db';
import { checkBlastRadius } from './blast-radius.ts';
import { checkCapacity } from './capacity.ts';
import { checkRoutes } from './routes.ts';
import { checkServiceAnswer } from './service-answer.ts';
import { checkShedding } from './shared.ts';
import { utilisationLimits } from './thresholds.ts';

/** The action as proposed, for checks that care about its kind or target. */
export interface ProposedAction {
  kind: string;
  edge: string | null;
  params: Record<string, unknown>;
  /** True when the change ends active actions (undrain, restore, revert...) rather than adding one. */
  revert?: boolean;
}

/** Which safety rule refuses an action, and why (DESIGN.md, safety rules). */
export interface Refusal {
  rule: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The pluggable safety step of the action pipeline: given the snapshot body the action
 * would publish (and the current one), a refusal or undefined. The checks here are
 * small pure functions; packages/routing and packages/safety can replace them through
 * `buildApi({ checkAction })` (an adapter builds their world from `context.db`).
 */
export type CheckAction = (
  after: SnapshotBody,
  action: ProposedAction,
  before: SnapshotBody,
  /**
   * The transaction the change runs in (an adapter can read SLO thresholds, route
   * history...) and the ids of the actions this change created or reverted.
   */
  context: { db: Db; now: Date; changedActions: readonly number[] },
) => Refusal | undefined | Promise<Refusal | undefined>;

const SHEDDING = new Set(['dns-shift', 'withdraw-unicast', 'communities', 'dsr-shed']);

/**
 * Routes (coverage, last route, route budget) by packages/routing on the two bodies;
 * shedding actions by packages/safety (the controller's rules); operator overrides
 * (drain, force-down, force-up, freeze), which packages/safety leaves to people, by the
 * local checks on the bodies: service answer, blast radius, capacity.
 */
export const checkActionRules: CheckAction = async (after, action, before, { db, now, changedActions }) => {
  const routes = await checkRoutes(db, before, after, now, changedActions);
  if (routes) return routes;
  const limitOf = await utilisationLimits(db);
  if (SHEDDING.has(action.kind)) return checkShedding(db, before, after, action, now, changedActions, limitOf);
  return checkServiceAnswer(before, after) ?? checkBlastRadius(before, after) ?? checkCapacity(before, after, limitOf);
};

export { predictLoads } from './capacity.ts';
export { checkBlastRadius, checkCapacity, checkRoutes, checkServiceAnswer, checkShedding, utilisationLimits };
