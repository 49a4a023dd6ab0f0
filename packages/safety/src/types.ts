import type { ActionKind, SheddingActionKind, SnapshotSettings } from '@catchment/core';

/**
 * The view of the world that the safety rules judge a change against. The
 * controller and the API build it from the database; the rules themselves are pure
 * (no I/O, no clock: `now` is part of the world), so they are property-testable.
 */
export type EdgeOverrideValue = 'none' | 'force-up' | 'force-down' | 'drain';
export type EdgeStateValue = 'active' | 'draining' | 'maintenance' | 'down';

export interface SafetyEdge {
  name: string;
  capacityRps: number;
  /** Last reported load (requests/s); null when the edge never reported. */
  loadRps: number | null;
  state: EdgeStateValue;
  override: EdgeOverrideValue;
  /** Utilisation (load / capacity) this edge may reach as a target: its SLO enter threshold. */
  threshold: number;
  dsrAddress: string | null;
}

/** An active row of the `actions` table. */
export interface SafetyAction {
  id?: number;
  kind: ActionKind;
  edge: string | null;
  prefix: string | null;
  source: 'operator' | 'automation';
  params: Record<string, unknown>;
  runId?: number | null;
}

export interface SafetyPrefix {
  cidr: string;
  kind: 'unicast' | 'anycast';
  /** Owner of a unicast prefix. */
  edge: string | null;
  /** Edges announcing an anycast supernet (the owner for unicast). */
  announcers: string[];
  supernet: string | null;
}

export interface SafetyService {
  name: string;
  /** Edges that have addresses for this service. */
  edges: string[];
  /** The service has an anycast fallback address. */
  anycast: boolean;
}

/** One change of a prefix's announcement (withdraw, re-announce, community change). */
export interface RouteChange {
  prefix: string;
  at: Date;
}

export interface SafetyWorld {
  now: Date;
  settings: SnapshotSettings;
  edges: SafetyEdge[];
  /** Active actions (not reverted, not expired), by operators and automation. */
  actions: SafetyAction[];
  prefixes: SafetyPrefix[];
  services: SafetyService[];
  /** Route changes of the last hour at least (older ones are ignored). */
  routeChanges: RouteChange[];
}

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
] as const;
export type SafetyRule = (typeof SAFETY_RULES)[number];

/** Why a change is refused: the rule, a sentence for people, and the numbers. */
export interface Refusal {
  rule: SafetyRule;
  reason: string;
  details: Record<string, unknown>;
}
