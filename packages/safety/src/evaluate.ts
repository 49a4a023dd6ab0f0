import { checkBlastRadius, checkServiceAnswer } from './blast-radius.ts';
import { checkCapacity } from './capacity.ts';
import { checkConnectionSafety } from './dsr.ts';
import { checkHumansWin } from './humans.ts';
import { checkRouteBudget } from './route-budget.ts';
import type { Change, Refusal, SafetyWorld } from './types.ts';

/**
 * The safety rules on one shedding change (the judge adds the routing rules, judged
 * once for the whole combination); an empty list means the change may go ahead.
 * Restores skip the rules that only guard against shedding too much (a restore never
 * adds load elsewhere nor withdraws a route), but they still obey humans-win.
 */
export function evaluateChange(world: SafetyWorld, change: Change): Refusal[] {
  return [...checkRouteBudget(world, change), ...changeRules(world, change)];
}

/** The rules on one change other than the route budget (the judge orders the budget first). */
export function changeRules(world: SafetyWorld, change: Change): Refusal[] {
  return [
    ...checkHumansWin(world, change),
    ...checkBlastRadius(world, change),
    ...checkServiceAnswer(world, change),
    ...checkCapacity(world, change),
    ...checkConnectionSafety(world, change),
  ];
}
