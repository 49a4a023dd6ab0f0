import { type AnnouncementChange, checkChanges } from '@catchment/routing';
import type { Refusal, SafetyRule, SafetyWorld } from './types.ts';

/** @catchment/routing's rule names as the safety rules name them. */
const RULES: Record<string, SafetyRule> = {
  coverage: 'coverage',
  'last-route': 'last-route',
  'not-announcer': 'coverage',
  'max-prefixes': 'coverage',
  'route-change-budget': 'route-budget',
};

/**
 * Safety rules 2 (coverage before withdrawal) and 3 ("never the last route"), judged by
 * @catchment/routing, the one implementation the edge agent uses too, on the snapshot
 * body the current state compiles to (`world.body`), with the withdrawals applied
 * together (two withdrawals of one change are judged as one step).
 */
export function checkRoutes(world: SafetyWorld, withdrawals: readonly AnnouncementChange[]): Refusal[] {
  if (withdrawals.length === 0) return [];
  if (!world.body) {
    return [
      {
        rule: 'coverage',
        reason: 'no compiled state to judge the withdrawal on',
        details: { prefixes: withdrawals.map((w) => w.prefix) },
      },
    ];
  }
  // Observations are judged at the world's time: an agent silent past the bound is unknown.
  const verdict = checkChanges(world.body, [...withdrawals], { now: world.now.getTime() });
  if (verdict.ok) return [];
  const supernets = (verdict.details?.supernets ?? []) as { unobserved?: { unknown?: boolean }[] }[];
  const missing = supernets.some((x) => (x.unobserved ?? []).some((u) => u.unknown === true));
  return [
    {
      rule: RULES[verdict.rule] ?? 'coverage',
      reason: verdict.reason,
      details: { ...verdict.details, routingRule: verdict.rule },
      ...(missing ? { missingData: true as const } : {}),
    },
  ];
}

/** The announcements of an edge that are announced now: what forcing it down withdraws. */
export function announcedBy(world: SafetyWorld, edge: string): AnnouncementChange[] {
  return (world.body?.announcements ?? [])
    .filter((a) => a.edge === edge && a.state === 'announced')
    .map((a) => ({ edge, prefix: a.prefix, state: 'withdrawn' as const }));
}
