import type {
  EdgeOverrideValue,
  EdgeStateValue,
  SheddingActionKind,
  World,
  WorldAction,
  WorldEdge,
  WorldPrefix,
  WorldRouteChange,
  WorldService,
} from '@catchment/core';

/**
 * The world the rules judge (packages/core world.ts; packages/db `readWorld` reads it),
 * under the names the rules have always used.
 */
export type SafetyEdge = WorldEdge;
export type SafetyAction = WorldAction;
export type SafetyPrefix = WorldPrefix;
export type SafetyService = WorldService;
export type RouteChange = WorldRouteChange;
export type SafetyWorld = World;
export type { EdgeOverrideValue, EdgeStateValue };

/** Predicted load moved onto one target edge (requests/s). */
export interface LoadMove {
  edge: string;
  rps: number;
}

/**
 * A proposed change: `shed` adds or raises a shedding action on `edge`, `restore`
 * lowers or removes one. `replaces` is the active action it supersedes (the previous
 * stage of a dns-shift schedule, the action a restore reverts).
 */
export interface Change {
  kind: SheddingActionKind;
  edge: string;
  source: 'operator' | 'automation';
  direction: 'shed' | 'restore';
  params: Record<string, unknown>;
  /** The prefix it touches (withdraw-unicast; communities on one prefix). */
  prefix?: string;
  moves: LoadMove[];
  replaces?: SafetyAction;
}

export const SAFETY_RULES = [
  'humans-win',
  'blast-radius',
  'service-answer',
  'capacity',
  'hysteresis',
  'dwell',
  'route-budget',
  'connection-safety',
  'coverage',
  'last-route',
  /** The change would change nothing (a prefix withdrawn twice): not a safety question, so not forceable. */
  'no-op',
] as const;
export type SafetyRule = (typeof SAFETY_RULES)[number];

/** Why a change is refused: the rule, a sentence for people, and the numbers. */
export interface Refusal {
  rule: SafetyRule;
  reason: string;
  details: Record<string, unknown>;
  /**
   * The refusal comes from data nobody has now (a load not reported, an agent silent past
   * its bound), not from what the data says: a run holds and asks again rather than skip.
   */
  missingData?: true;
}
