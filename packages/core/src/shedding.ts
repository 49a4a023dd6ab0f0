import { type Static, Type } from 'typebox';
import { ACTION_KINDS, type ActionKind } from './actions.ts';
import { CidrText, Name } from './schema-common.ts';

/** The action kinds a playbook step writes (the others belong to operators). */
export const SHEDDING_ACTION_KINDS = ['dns-shift', 'withdraw-unicast', 'communities', 'dsr-shed'] as const;
export type SheddingActionKind = (typeof SHEDDING_ACTION_KINDS)[number];

export function isActionKind(kind: string): kind is ActionKind {
  return (ACTION_KINDS as string[]).includes(kind);
}

/**
 * What DNS servers report as `load` in `POST /v1/reports` (kind 'dns'): answers
 * given per client block and edge over the last `windowSeconds`. The controller's
 * planner uses it as its traffic model (how finely a DNS shift moves clients).
 */
export const DnsLoadReport = Type.Object(
  {
    windowSeconds: Type.Number({ exclusiveMinimum: 0 }),
    answers: Type.Array(
      Type.Object(
        { block: CidrText, edge: Name, count: Type.Integer({ minimum: 0 }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: true },
);
export type DnsLoadReport = Static<typeof DnsLoadReport>;
