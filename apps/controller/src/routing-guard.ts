import { checkWithdrawal } from '@catchment/routing';
import type { Refusal, RoutingGuard, SafetyRule } from '@catchment/safety';
import type { ControllerWorld } from './model.ts';

const RULES: Record<string, SafetyRule> = {
  coverage: 'coverage',
  'last-route': 'last-route',
  'not-announcer': 'coverage',
  'max-prefixes': 'coverage',
  'route-change-budget': 'route-budget',
};

/**
 * Coverage before withdrawal and "never the last route", judged by @catchment/routing
 * (the one implementation the API and the edge agent use too) on the snapshot body that
 * the current state compiles to (`world.body`, with the active actions applied).
 */
export const routingPackageGuard: RoutingGuard = {
  checkWithdrawal(world, prefix, edge): Refusal[] {
    const { body } = world as ControllerWorld;
    if (!body)
      return [{ rule: 'coverage', reason: 'no compiled state to judge the withdrawal on', details: { prefix } }];
    const verdict = checkWithdrawal(body, edge, prefix);
    if (verdict.ok) return [];
    return [
      {
        rule: RULES[verdict.rule] ?? 'coverage',
        reason: verdict.reason,
        details: { ...verdict.details, routingRule: verdict.rule },
      },
    ];
  },
};
