import type { SheddingActionKind } from '@catchment/core';
import { evaluateChange } from './evaluate.ts';
import { checkOverride, isOverrideKind } from './overrides.ts';
import type { RoutingGuard } from './routing-guard.ts';
import type { Change, LoadMove, Refusal, SafetyAction, SafetyWorld } from './types.ts';

const SHEDDING = new Set<string>(['dns-shift', 'withdraw-unicast', 'communities', 'dsr-shed']);

/** An action as someone proposes it (the API's operator actions, or a revert of one). */
export interface ProposedAction {
  kind: string;
  edge: string | null;
  params: Record<string, unknown>;
  source: 'operator' | 'automation';
  /** True when the proposal ends an active action rather than adding one. */
  revert?: boolean;
  /** Predicted load moved onto targets, when the caller has a plan (else no capacity check). */
  moves?: LoadMove[];
}

/**
 * Judges one proposed action against the world with every safety rule, for callers
 * that are not the controller's planner (the API's action pipeline), for every action
 * kind: shedding actions by `evaluateChange`, overrides that take an edge out of
 * service (drain, force-down) by `checkOverride`; a freeze sheds nothing.
 */
export function checkProposedAction(world: SafetyWorld, action: ProposedAction, guard?: RoutingGuard): Refusal[] {
  if (action.edge === null) return [];
  if (isOverrideKind(action.kind)) {
    return checkOverride(world, {
      kind: action.kind,
      edge: action.edge,
      revert: action.revert ?? false,
      moves: action.moves ?? [],
    });
  }
  if (!SHEDDING.has(action.kind)) return [];
  const kind = action.kind as SheddingActionKind;
  const prefix = typeof action.params.prefix === 'string' ? action.params.prefix : undefined;
  const current: SafetyAction | undefined = world.actions.find(
    (a) => a.kind === kind && a.edge === action.edge && (kind !== 'withdraw-unicast' || a.prefix === prefix),
  );
  const level = (p: Record<string, unknown>) =>
    kind === 'dns-shift' ? Number(p.percent) || 0 : kind === 'dsr-shed' ? Number(p.fraction) || 0 : 1;
  const shed = !action.revert && (!current || level(action.params) > level(current.params));
  const change: Change = {
    kind,
    edge: action.edge,
    source: action.source,
    direction: shed ? 'shed' : 'restore',
    params: action.revert ? { ...action.params, percent: 0, fraction: 0 } : action.params,
    moves: action.moves ?? [],
    ...(prefix ? { prefix } : {}),
    ...(current ? { replaces: current } : {}),
  };
  return evaluateChange(world, change, guard);
}
