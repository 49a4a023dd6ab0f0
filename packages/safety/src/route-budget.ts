import type { Change, Refusal, SafetyWorld } from './types.ts';

export const HOUR_MS = 3_600_000;

/** Route changes of `prefix` in the hour before `now`. */
export function routeChangesInLastHour(world: SafetyWorld, prefix: string): number {
  const since = world.now.getTime() - HOUR_MS;
  return world.routeChanges.filter((c) => c.prefix === prefix && c.at.getTime() > since && c.at <= world.now).length;
}

/** The prefixes whose announcement a change touches. */
export function touchedPrefixes(world: SafetyWorld, change: Change): string[] {
  if (change.kind === 'withdraw-unicast') return change.prefix ? [change.prefix] : [];
  if (change.kind !== 'communities') return [];
  if (typeof change.params.prefix === 'string') return [change.params.prefix];
  if (change.prefix) return [change.prefix];
  return world.prefixes
    .filter((p) => (p.kind === 'unicast' ? p.edge === change.edge : p.announcers.includes(change.edge)))
    .map((p) => p.cidr);
}

/**
 * Safety rule 5, route-change budget per prefix per hour (BGP flap damping punishes
 * flapping routes). A shed reserves two changes, itself and the restore that will
 * follow, so a restore always fits unless operators spent the budget meanwhile; a
 * restore needs one. Nothing exceeds the budget: a restore that does not fit waits.
 */
export function checkRouteBudget(world: SafetyWorld, change: Change): Refusal[] {
  const budget = world.settings.routeChangesPerPrefixPerHour;
  const need = change.direction === 'shed' ? 2 : 1;
  const out: Refusal[] = [];
  for (const prefix of touchedPrefixes(world, change)) {
    const used = routeChangesInLastHour(world, prefix);
    if (used + need > budget) {
      out.push({
        rule: 'route-budget',
        reason: `${prefix} changed ${used} times in the last hour; ${need} more would exceed the budget of ${budget}`,
        details: { prefix, used, need, budget },
      });
    }
  }
  return out;
}
