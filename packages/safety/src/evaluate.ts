import { checkBlastRadius, checkServiceAnswer } from './blast-radius.ts';
import { checkCapacity } from './capacity.ts';
import { checkConnectionSafety } from './dsr.ts';
import { checkHumansWin } from './humans.ts';
import { checkRouteBudget } from './route-budget.ts';
import { basicRoutingGuard, type RoutingGuard } from './routing-guard.ts';
import type { Change, Refusal, SafetyWorld } from './types.ts';

/**
 * Every safety rule that applies to one change, in one place; an empty list means
 * the change may go ahead. Restores skip the rules that only guard against shedding
 * too much (a restore never adds load elsewhere nor withdraws a route), but they still
 * obey humans-win and the route-change budget.
 */
export function evaluateChange(world: SafetyWorld, change: Change, guard: RoutingGuard = basicRoutingGuard): Refusal[] {
  const out = [
    ...checkHumansWin(world, change),
    ...checkBlastRadius(world, change),
    ...checkServiceAnswer(world, change),
    ...checkCapacity(world, change),
    ...checkRouteBudget(world, change),
    ...checkConnectionSafety(world, change),
  ];
  if (change.kind === 'withdraw-unicast' && change.direction === 'shed' && change.prefix) {
    out.push(...guard.checkWithdrawal(world, change.prefix, change.edge));
  }
  return out;
}
