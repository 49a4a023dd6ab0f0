import { type Static, Type } from 'typebox';
import { CidrText, CommunityText, CountryCode, DnsName, Name } from './schema-common.ts';

/**
 * Actions: the only way anything changes steering at run time, for operators and
 * automation alike. Each is a row of the `actions` table (kind, edge, params, reason,
 * actor, expiry); the snapshot compiler (packages/db compile.ts) applies the active ones.
 * These param schemas are shared by the API, the controller and the compiler.
 */
const strict = { additionalProperties: false } as const;

export const ActionParams = {
  /** Operator override of an edge, with expiry: beats automation (safety rule 8). */
  drain: Type.Object({}, strict),
  'force-down': Type.Object({}, strict),
  'force-up': Type.Object({}, strict),
  /** Freeze automation globally (no edge) or for one edge. */
  freeze: Type.Object({}, strict),
  /** Answer `percent` % of this edge's DNS clients with other edges. */
  'dns-shift': Type.Object(
    { percent: Type.Number({ minimum: 0, maximum: 100 }), targets: Type.Optional(Type.Array(Name)) },
    strict,
  ),
  /** Stop announcing one of the edge's unicast prefixes (traffic falls back to the supernet). */
  'withdraw-unicast': Type.Object({ prefix: CidrText }, strict),
  /**
   * Add communities to the edge's announcements (all of them, or one prefix): towards
   * one transit's BGP sessions only when `transit` is named (its intents' values mean
   * nothing to other providers), else towards every session.
   */
  communities: Type.Object(
    {
      communities: Type.Array(CommunityText, { minItems: 1 }),
      prefix: Type.Optional(CidrText),
      transit: Type.Optional(Name),
    },
    strict,
  ),
  /** XDP DSR shedding of a fraction (0-1] of new flows to other edges. */
  'dsr-shed': Type.Object(
    { fraction: Type.Number({ minimum: 0, maximum: 1 }), targets: Type.Optional(Type.Array(Name)) },
    strict,
  ),
  /**
   * Pin an answer (safety rule 8): clients in `cidr` (matched against the ECS source or the
   * resolver's address), or in `country` (by GeoIP), get the action's edge for the service
   * `name`, or for every service when `name` is absent. Exactly one of `cidr` and `country`.
   */
  pin: Type.Object(
    { cidr: Type.Optional(CidrText), country: Type.Optional(CountryCode), name: Type.Optional(DnsName) },
    strict,
  ),
} as const;

export type ActionKind = keyof typeof ActionParams;
export const ACTION_KINDS = Object.keys(ActionParams) as ActionKind[];
export type ActionParamsOf<K extends ActionKind> = Static<(typeof ActionParams)[K]>;

/** Kinds that need an edge; `freeze` may omit it (global freeze). */
export const EDGE_SCOPED_ACTIONS: ReadonlySet<ActionKind> = new Set(ACTION_KINDS.filter((k) => k !== 'freeze'));

/** The override that each override action sets on its edge. */
export const OVERRIDE_ACTIONS = { drain: 'drain', 'force-down': 'force-down', 'force-up': 'force-up' } as const;

/** An active action as the compiler sees it (names, not ids). */
export interface ActiveAction {
  id: number;
  kind: ActionKind;
  edge: string | null;
  params: Record<string, unknown>;
  createdAt: Date;
  expiresAt: Date | null;
  source: 'operator' | 'automation';
  /** The operator's reason (carried into the snapshot for pins, which explain shows). */
  reason?: string;
}
