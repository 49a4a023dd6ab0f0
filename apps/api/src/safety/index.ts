import type { SnapshotBody } from '@catchment/core';
import type { Db } from '@catchment/db';
import { checkBlastRadius } from './blast-radius.ts';
import { checkCapacity } from './capacity.ts';
import { checkCoverage } from './coverage.ts';
import { checkLastRoute } from './last-route.ts';
import { checkRouteBudget } from './route-budget.ts';
import { utilisationLimits } from './thresholds.ts';

/** The action as proposed, for checks that care about its kind or target. */
export interface ProposedAction {
  kind: string;
  edge: string | null;
  params: Record<string, unknown>;
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
  /** The transaction the change runs in (an adapter can read SLO thresholds, route history...). */
  context: { db: Db; now: Date },
) => Refusal | undefined | Promise<Refusal | undefined>;

export const checkActionRules: CheckAction = async (after, _action, before, { db, now }) =>
  checkLastRoute(before, after) ??
  checkCoverage(before, after) ??
  checkBlastRadius(before, after) ??
  checkCapacity(before, after, await utilisationLimits(db)) ??
  (await checkRouteBudget(db, before, after, now));

export { predictLoads } from './capacity.ts';
export { checkBlastRadius, checkCapacity, checkCoverage, checkLastRoute, checkRouteBudget, utilisationLimits };
