import { edgeAnnouncedPrefixes, HOUR_MS } from '@catchment/core';
import type { Change, Refusal, SafetyWorld } from './types.ts';

export { HOUR_MS };

/** Route changes of `prefix` in the hour before `now` (world.routeChanges: real transitions). */
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
  return edgeAnnouncedPrefixes(world.prefixes, change.edge);
}

/** Whether the prefix is withdrawn by an active action already. */
export function isWithdrawn(world: SafetyWorld, prefix: string): boolean {
  return world.actions.some((a) => a.kind === 'withdraw-unicast' && a.prefix === prefix);
}

/**
 * Safety rule 5, the one route-change budget per prefix per hour (BGP flap damping
 * punishes flapping routes), on the real transitions of the world's history:
 *  - withdrawing a prefix that is already withdrawn changes nothing: refused as a
 *    no-op (not forceable, and not counted);
 *  - a shed reserves two changes, itself and the restore that will follow, so the
 *    restore always fits;
 *  - a restore (re-announcing, removing communities) is never blocked: undoing is
 *    always allowed, and it cannot exceed the budget the shed reserved.
 */
export function checkRouteBudget(world: SafetyWorld, change: Change): Refusal[] {
  if (change.direction === 'restore') return [];
  if (change.kind === 'withdraw-unicast' && change.prefix && isWithdrawn(world, change.prefix)) {
    return [
      {
        rule: 'no-op',
        reason: `${change.prefix} is withdrawn already: withdrawing it again would change nothing`,
        details: { prefix: change.prefix },
      },
    ];
  }
  const budget = world.settings.routeChangesPerPrefixPerHour;
  const need = 2;
  const out: Refusal[] = [];
  for (const prefix of touchedPrefixes(world, change)) {
    const used = routeChangesInLastHour(world, prefix);
    if (used + need > budget) {
      out.push({
        rule: 'route-budget',
        reason: `${prefix} changed ${used} times in the last hour; withdrawing and restoring it would exceed the budget of ${budget}`,
        details: { prefix, used, need, budget },
      });
    }
  }
  return out;
}
