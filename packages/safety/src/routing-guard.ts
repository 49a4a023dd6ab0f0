import type { Refusal, SafetyAction, SafetyWorld } from './types.ts';
import { edgeOf, edgeUsable, headroomRps } from './world.ts';

/**
 * The routing-specific safety rules (2, coverage before withdrawal; and "never the
 * last route") belong to @catchment/routing. This is the interface the controller and
 * the API call; `basicRoutingGuard` is a small stand-in implementation until
 * @catchment/routing provides its own (then pass that one instead).
 */
export interface RoutingGuard {
  /** Refusals for withdrawing the unicast `prefix` of `edge`, given the active actions. */
  checkWithdrawal(world: SafetyWorld, prefix: string, edge: string): Refusal[];
}

function withdrawn(actions: SafetyAction[], prefix: string, edge: string): boolean {
  return actions.some(
    (a) => a.kind === 'withdraw-unicast' && a.prefix === prefix && (a.edge === edge || a.edge === null),
  );
}

export const basicRoutingGuard: RoutingGuard = {
  checkWithdrawal(world, prefix, edge) {
    const p = world.prefixes.find((x) => x.cidr === prefix);
    if (p?.kind !== 'unicast') {
      return [{ rule: 'coverage', reason: `${prefix} is not a unicast prefix`, details: { prefix } }];
    }
    if (p.edge !== edge) {
      return [{ rule: 'coverage', reason: `${prefix} is not owned by ${edge}`, details: { prefix, owner: p.edge } }];
    }
    const supernet = p.supernet ? world.prefixes.find((x) => x.cidr === p.supernet) : undefined;
    if (!supernet) {
      return [
        {
          rule: 'last-route',
          reason: `${prefix} has no covering supernet: withdrawing it would leave its addresses without a route`,
          details: { prefix },
        },
      ];
    }
    // Announcers of the supernet other than the edge, usable, with headroom, and not
    // withdrawing the supernet themselves.
    const covering = supernet.announcers.filter((name) => {
      if (name === edge) return false;
      const e = edgeOf(world, name);
      return e !== undefined && edgeUsable(e) && headroomRps(e) > 0 && !withdrawn(world.actions, supernet.cidr, name);
    });
    const k = world.settings.coverageMinAnnouncers;
    const out: Refusal[] = [];
    if (covering.length === 0) {
      out.push({
        rule: 'last-route',
        reason: `no other healthy edge announces ${supernet.cidr}: ${prefix} would be the last route`,
        details: { prefix, supernet: supernet.cidr },
      });
    } else if (covering.length < k) {
      out.push({
        rule: 'coverage',
        reason: `${supernet.cidr} is announced by ${covering.length} other healthy edge(s) with headroom; ${k} are required`,
        details: { prefix, supernet: supernet.cidr, covering, required: k },
      });
    }
    return out;
  },
};
