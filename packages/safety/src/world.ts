import { edgeUsable, headroomRps } from '@catchment/core';
import type { SafetyAction, SafetyEdge, SafetyWorld } from './types.ts';

// Usable and headroom are core's domain predicates (edge-rules.ts), shared with DNS.
export { edgeUsable, headroomRps };

export function edgeOf(world: SafetyWorld, name: string): SafetyEdge | undefined {
  return world.edges.find((e) => e.name === name);
}

function num(v: unknown, fallback = 0): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** Share of the edge's load that community changes are assumed to move (a low-confidence estimate). */
export const COMMUNITIES_SHED_SHARE = 0.1;

/**
 * How much of an edge's traffic its active shedding actions take away, 0..1:
 * dns-shift percent/100, withdraw-unicast 1 (its unicast addresses now follow the
 * supernet), dsr-shed its fraction, communities a small estimate; combined as
 * independent shares. An edge that is not usable counts as fully shed.
 */
export function shedFraction(edge: SafetyEdge, actions: SafetyAction[]): number {
  if (!edgeUsable(edge)) return 1;
  let kept = 1;
  for (const a of actions) {
    if (a.edge !== edge.name) continue;
    if (a.kind === 'dns-shift') kept *= 1 - Math.min(1, Math.max(0, num(a.params.percent) / 100));
    else if (a.kind === 'withdraw-unicast') kept *= 0;
    else if (a.kind === 'dsr-shed') kept *= 1 - Math.min(1, Math.max(0, num(a.params.fraction)));
    else if (a.kind === 'communities') kept *= 1 - COMMUNITIES_SHED_SHARE;
  }
  return 1 - kept;
}

export function isShed(edge: SafetyEdge, actions: SafetyAction[]): boolean {
  return shedFraction(edge, actions) > 0;
}

/** The active actions after applying `change` (without its replaced action). */
export function actionsAfter(
  world: SafetyWorld,
  next: SafetyAction | undefined,
  replaces?: SafetyAction,
): SafetyAction[] {
  const out = world.actions.filter((a) => a !== replaces && (replaces?.id === undefined || a.id !== replaces.id));
  if (next) out.push(next);
  return out;
}

/** Whether automation is frozen for an edge (globally, or for that edge), by an operator. */
export function frozenFor(world: SafetyWorld, edge: string): boolean {
  return world.actions.some((a) => a.kind === 'freeze' && (a.edge === null || a.edge === edge));
}

export function utilisation(edge: SafetyEdge): number | null {
  return edge.loadRps === null ? null : edge.loadRps / edge.capacityRps;
}
