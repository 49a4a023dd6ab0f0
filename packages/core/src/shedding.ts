import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import { ACTION_KINDS, type ActionKind } from './actions.ts';
import { CidrText, Name } from './schema-common.ts';

/** The action kinds a playbook step writes (the others belong to operators). */
export const SHEDDING_ACTION_KINDS = ['dns-shift', 'withdraw-unicast', 'communities', 'dsr-shed'] as const;
export type SheddingActionKind = (typeof SHEDDING_ACTION_KINDS)[number];

export function isActionKind(kind: string): kind is ActionKind {
  return (ACTION_KINDS as string[]).includes(kind);
}

/**
 * What DNS servers put in the `details` of their state reports (`POST /v1/reports`,
 * kind 'dns'; apps/dns server.ts): answers given per client block and edge since the
 * last report, every `intervalMs`. The controller's planner uses them as its traffic
 * model (how finely a DNS shift moves clients). `edge` is null for answers that named
 * no edge (anycast fallback, NODATA...).
 */
export const DnsBlockReport = Type.Object(
  {
    intervalMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    blocks: Type.Array(
      Type.Object(
        { block: CidrText, edge: Type.Union([Name, Type.Null()]), answers: Type.Number({ minimum: 0 }) },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);
export type DnsBlockReport = Static<typeof DnsBlockReport>;

/** Whether a consumer report's details are a DNS server's block report. */
export function isDnsBlockReport(details: unknown): details is DnsBlockReport {
  return Value.Check(DnsBlockReport, details);
}

export function isSheddingKind(kind: string): kind is SheddingActionKind {
  return (SHEDDING_ACTION_KINDS as readonly string[]).includes(kind);
}
