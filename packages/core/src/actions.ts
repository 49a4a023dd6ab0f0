import { type Static, type TSchema, Type } from 'typebox';
import { CidrText, CommunityText, Name } from './schema-common.ts';

/**
 * The kinds of rows in the `actions` table and the shape of their `params`.
 * The controller writes them (source 'automation'), the API writes them (source
 * 'operator'), and the snapshot compiler turns the active ones (not reverted, not
 * expired) into the published snapshot. One definition, shared by all three.
 */
const strict = { additionalProperties: false } as const;

/**
 * Why an automated action ends, besides its `expires_at`: recorded on every
 * automated action (safety rule 7: every automated action has an expiry or a
 * revert condition).
 */
export const RevertCondition = Type.Object(
  {
    /** `run-recovered`: reverted by run `runId` once the exit threshold held for `dwell`. */
    when: Type.Union([Type.Literal('run-recovered'), Type.Literal('expiry')]),
    runId: Type.Optional(Type.Integer({ minimum: 1 })),
    dwell: Type.Optional(Type.String()),
  },
  strict,
);

/** Answer `percent` % of the edge's (actions.edge_id) DNS clients with `targets`. */
export const DnsShiftParams = Type.Object(
  {
    percent: Type.Number({ minimum: 0, maximum: 100 }),
    /** Edges that receive the shifted answers; empty: usable edges with headroom. */
    targets: Type.Array(Name),
    revert: Type.Optional(RevertCondition),
  },
  strict,
);

/** Stop announcing the edge's unicast `prefix` (actions.prefix_id names the same row). */
export const WithdrawUnicastParams = Type.Object({ prefix: CidrText, revert: Type.Optional(RevertCondition) }, strict);

/**
 * Add `communities` to the edge's announcements (of `prefixes`, or of every prefix
 * the edge announces when absent). `transit` and `intents` say where the values came
 * from (the transit's intent catalogue), for audits.
 */
export const CommunitiesParams = Type.Object(
  {
    communities: Type.Array(CommunityText, { minItems: 1 }),
    prefixes: Type.Optional(Type.Array(CidrText)),
    transit: Type.Optional(Name),
    intents: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    revert: Type.Optional(RevertCondition),
  },
  strict,
);

/** Shed `fraction` (0-1] of the edge's NEW flows over DSR to `targets`, weighted. */
export const DsrShedParams = Type.Object(
  {
    fraction: Type.Number({ minimum: 0, maximum: 1 }),
    targets: Type.Array(Type.Object({ edge: Name, weight: Type.Integer({ minimum: 1 }) }, strict), {
      minItems: 1,
    }),
    revert: Type.Optional(RevertCondition),
  },
  strict,
);

/**
 * An operator freezes automation (safety rule 8): for one edge (actions.edge_id),
 * or everywhere when edge_id is null. Automation never writes this kind.
 */
export const FreezeParams = Type.Object({}, strict);

export const ACTION_PARAMS = {
  'dns-shift': DnsShiftParams,
  'withdraw-unicast': WithdrawUnicastParams,
  communities: CommunitiesParams,
  'dsr-shed': DsrShedParams,
  freeze: FreezeParams,
} as const satisfies Record<string, TSchema>;

export type ActionKind = keyof typeof ACTION_PARAMS;
export const ACTION_KINDS = Object.keys(ACTION_PARAMS) as ActionKind[];
/** The kinds a playbook step may write (freeze belongs to operators). */
export const SHEDDING_ACTION_KINDS = ['dns-shift', 'withdraw-unicast', 'communities', 'dsr-shed'] as const;
export type SheddingActionKind = (typeof SHEDDING_ACTION_KINDS)[number];

export type RevertCondition = Static<typeof RevertCondition>;
export type DnsShiftParams = Static<typeof DnsShiftParams>;
export type WithdrawUnicastParams = Static<typeof WithdrawUnicastParams>;
export type CommunitiesParams = Static<typeof CommunitiesParams>;
export type DsrShedParams = Static<typeof DsrShedParams>;
export type FreezeParams = Static<typeof FreezeParams>;

export interface ActionParamsByKind {
  'dns-shift': DnsShiftParams;
  'withdraw-unicast': WithdrawUnicastParams;
  communities: CommunitiesParams;
  'dsr-shed': DsrShedParams;
  freeze: FreezeParams;
}

export function isActionKind(kind: string): kind is ActionKind {
  return Object.hasOwn(ACTION_PARAMS, kind);
}

/**
 * What DNS servers report as `load` in `POST /v1/reports` (kind 'dns'): answers
 * given per client block and edge over the last `windowSeconds`. The controller's
 * planner uses it as its traffic model (who would move where when DNS shifts).
 */
export const DnsLoadReport = Type.Object(
  {
    windowSeconds: Type.Number({ exclusiveMinimum: 0 }),
    answers: Type.Array(Type.Object({ block: CidrText, edge: Name, count: Type.Integer({ minimum: 0 }) }, strict)),
  },
  { additionalProperties: true },
);
export type DnsLoadReport = Static<typeof DnsLoadReport>;
