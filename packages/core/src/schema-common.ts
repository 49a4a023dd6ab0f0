import { Type } from 'typebox';

/** A string enum whose static type is the union of its strings. */
export function Literals<const T extends string[]>(values: readonly [...T], options: { description?: string } = {}) {
  return Type.Enum(values, options);
}

/** Building blocks shared by the configuration and the snapshot schemas. */
export const Name = Type.String({
  pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
  description: 'lower-case identifier: letters, digits, - and _',
});
/** A DNS name, absolute or relative; normalised to lower case without the final dot. */
export const DnsName = Type.String({
  description: 'a DNS name (labels of letters, digits, - and _)',
  minLength: 1,
  maxLength: 253,
  pattern:
    '^(@|\\*|(\\*\\.)?([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\\.?)$',
});
export const CidrText = Type.String({ minLength: 3, maxLength: 49, description: 'CIDR, host bits zero' });
export const IpText = Type.String({ minLength: 2, maxLength: 45, description: 'IPv4 or IPv6 address' });
export const CountryCode = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' });
export const CONTINENTS = ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'] as const;
export const ContinentCode = Literals(CONTINENTS, { description: 'continent code as in GeoIP2' });
/** Community: standard `a:b` (16-bit each), large `a:b:c` (32-bit each), or a well-known name. */
export const CommunityText = Type.String({
  description: '`a:b` (16-bit each), `a:b:c` (32-bit each) or a well-known name',
  pattern: '^([0-9]{1,10}:[0-9]{1,10}(:[0-9]{1,10})?|[A-Z_]{3,40})$',
});
export const Duration = Type.String({
  pattern: '^[0-9]+(ms|s|m|h|d)$',
  maxLength: 20,
  description: 'duration such as 30s, 5m, 1h; at most 366d (packages/core duration.ts)',
});
export const Ttl = Type.Integer({ minimum: 0, maximum: 2147483647 });

export const EDGE_STATES = ['active', 'draining', 'maintenance', 'down'] as const;
export const EdgeState = Literals(EDGE_STATES);

/** Operator override: automation never changes it; it beats automation (safety rule 8). */
export const EDGE_OVERRIDES = ['none', 'force-up', 'force-down', 'drain'] as const;
export const EdgeOverride = Literals(EDGE_OVERRIDES);

export const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV', 'CAA', 'NS', 'PTR'] as const;
export const RecordType = Literals(RECORD_TYPES);

export const SLO_METRICS = ['utilisation', 'latency', 'error-rate', 'loss'] as const;
export const SloMetric = Literals(SLO_METRICS);

export const PLAYBOOK_MODES = ['auto', 'approve', 'dry-run'] as const;
export const PlaybookMode = Literals(PLAYBOOK_MODES);

export const Soa = Type.Object(
  {
    mname: DnsName,
    rname: DnsName,
    serial: Type.Integer({ minimum: 0, maximum: 4294967295 }),
    refresh: Ttl,
    retry: Ttl,
    expire: Ttl,
    minimum: Ttl,
  },
  { additionalProperties: false },
);

/** A rule's match: exactly one of cidr, asn, country, continent. */
export const PolicyMatch = Type.Union([
  Type.Object({ cidr: CidrText }, { additionalProperties: false }),
  Type.Object({ asn: Type.Integer({ minimum: 0, maximum: 4294967295 }) }, { additionalProperties: false }),
  Type.Object({ country: CountryCode }, { additionalProperties: false }),
  Type.Object({ continent: ContinentCode }, { additionalProperties: false }),
]);

export const PolicyRule = Type.Object(
  { match: PolicyMatch, edges: Type.Array(Name, { minItems: 1 }) },
  { additionalProperties: false },
);

/** Playbook steps: each names its kind, its parameters, its verification and rollback. */
const StepCommon = {
  verify: Type.Optional(
    Type.Object(
      {
        within: Duration,
        improveBy: Type.Optional(Type.Number({ minimum: 0 })),
        /** dns-shift, dsr-shed: the share of the predicted relief the edge's load must lose (default 0.5). */
        loadDrop: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
        /** What a failed verification does: leave the step and escalate (default), or roll it back first. */
        onFail: Type.Optional(Type.Union([Type.Literal('escalate'), Type.Literal('rollback')])),
      },
      { additionalProperties: false },
    ),
  ),
  dwell: Type.Optional(Duration),
};
export const PlaybookStep = Type.Union([
  Type.Object(
    {
      kind: Type.Literal('dns-shift'),
      schedule: Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 100 }), { minItems: 1 }),
      ...StepCommon,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('withdraw-unicast'), prefixes: Type.Optional(Type.Array(CidrText)), ...StepCommon },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('communities'),
      transit: Type.Optional(Name),
      intents: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1 }),
      ...StepCommon,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('dsr-shed'),
      fraction: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
      targets: Type.Optional(Type.Array(Name)),
      ...StepCommon,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('notify'), message: Type.String({ maxLength: 2000 }), ...StepCommon },
    { additionalProperties: false },
  ),
]);

export const PlaybookTrigger = Type.Union([
  Type.Object(
    { alert: Type.Record(Type.String(), Type.String({ maxLength: 1024 }), { minProperties: 1 }) },
    { additionalProperties: false },
  ),
  Type.Object({ slo: Name }, { additionalProperties: false }),
]);
