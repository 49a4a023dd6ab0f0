import type { SnapshotBody } from '@catchment/core';
import type { Db } from '@catchment/db';
import { checkProposedAction, type RoutingGuard, type ProposedAction as SafetyProposal } from '@catchment/safety';
import { predictMoves } from './loads.ts';
import { checkRoutes } from './routes.ts';
import { utilisationLimits } from './thresholds.ts';
import { worldBefore } from './world.ts';

/**
 * The action as proposed by an operator: packages/safety's proposal without the parts
 * this adapter adds (the source, always an operator here, and the predicted load moves).
 */
export type ProposedAction = Pick<SafetyProposal, 'kind' | 'edge' | 'params' | 'revert'>;

/** Which safety rule refuses an action, and why (DESIGN.md, safety rules). */
export interface Refusal {
  rule: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The pluggable safety step of the action pipeline: given the snapshot body the action
 * would publish (and the current one), a refusal or undefined. The rules themselves
 * live in packages/routing and packages/safety; this module only builds their inputs
 * from the database and the two bodies. Tests can replace it through `buildApi({ checkAction })`.
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

/** Coverage and the last route are judged by packages/routing on the compiled after-state (checkRoutes). */
const judgedByRouting: RoutingGuard = { checkWithdrawal: () => [] };

/**
 * Every action kind, judged in the two shared places: routes (coverage, last route,
 * route-change budget) by packages/routing's `checkTransition` on the two bodies; then
 * packages/safety's `checkProposedAction` on the world before the change (blast radius,
 * service answer, capacity with the load this change is predicted to move, route
 * budget, connection safety; overrides as the shedding of a whole edge). The first
 * refusal is returned.
 */
export const checkActionRules: CheckAction = async (after, action, before, { db, now, changedActions }) => {
  const routes = await checkRoutes(db, before, after, now, changedActions);
  if (routes) return routes;
  const world = await worldBefore(db, before, now, changedActions, await utilisationLimits(db));
  const [first] = checkProposedAction(
    world,
    {
      kind: action.kind,
      edge: action.edge,
      params: action.params,
      source: 'operator',
      revert: action.revert ?? false,
      moves: predictMoves(before, after),
    },
    judgedByRouting,
  );
  return first ? { rule: first.rule, message: first.reason, details: first.details } : undefined;
};
