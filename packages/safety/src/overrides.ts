import { OVERRIDE_ACTIONS } from '@catchment/core';
import { blastRadius, servicesLosingAnswer } from './blast-radius.ts';
import { checkMoves } from './capacity.ts';
import type { LoadMove, Refusal, SafetyWorld } from './types.ts';
import { edgeOf, edgeUsable } from './world.ts';

export type OverrideKind = keyof typeof OVERRIDE_ACTIONS;

export function isOverrideKind(kind: string): kind is OverrideKind {
  return Object.hasOwn(OVERRIDE_ACTIONS, kind);
}

/**
 * An operator override of an edge (drain, force-down, force-up). Humans win over
 * automation, but an override still sheds traffic like any other change: taking an
 * edge out of service is judged by the same rules as shedding all of its traffic.
 */
export interface OverrideChange {
  kind: OverrideKind;
  edge: string;
  /** True when the override is released (the edge goes back to `none`). */
  revert: boolean;
  /** Predicted load moved onto targets, when the caller has a plan (else no capacity check). */
  moves: LoadMove[];
}

/** The world with the override applied to (or released from) its edge. */
export function worldWithOverride(world: SafetyWorld, change: OverrideChange): SafetyWorld {
  const override = change.revert ? 'none' : OVERRIDE_ACTIONS[change.kind];
  return { ...world, edges: world.edges.map((e) => (e.name === change.edge ? { ...e, override } : e)) };
}

/**
 * Safety rules 3 and 4 for an override: only an override that takes a usable edge out
 * of service is judged (a release or a force-up never sheds more). Then: no service
 * loses its last DNS answer, the blast radius stays within bounds, and the targets of
 * the moved load keep below their thresholds. Routes (coverage, last route) are
 * packages/routing's, judged on the compiled announcements.
 */
export function checkOverride(world: SafetyWorld, change: OverrideChange): Refusal[] {
  const edge = edgeOf(world, change.edge);
  const after = worldWithOverride(world, change);
  const edgeAfter = edgeOf(after, change.edge);
  if (!edge || !edgeAfter || !edgeUsable(edge) || edgeUsable(edgeAfter)) return [];
  return [
    ...servicesLosingAnswer(world, after),
    ...blastRadius(world, after, `${change.kind} of ${change.edge}`),
    ...checkMoves(after, change.edge, change.moves),
  ];
}
