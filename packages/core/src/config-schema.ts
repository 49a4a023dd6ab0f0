import { type Static, Type } from 'typebox';
import {
  CidrText,
  CommunityText,
  ContinentCode,
  CountryCode,
  DnsName,
  Duration,
  EdgeOverride,
  EdgeState,
  IpText,
  Name,
  PlaybookMode,
  PlaybookStep,
  PlaybookTrigger,
  PolicyRule,
  RecordType,
  SloMetric,
  Soa,
  Ttl,
} from './schema-common.ts';
import { SloObjective } from './slo-objective.ts';

/**
 * The configuration-as-code file (YAML): the declarative desired state that
 * `catchment import` loads and `catchment export` writes. Names, not ids, link objects.
 */
const strict = { additionalProperties: false } as const;

export const ZoneRecordConfig = Type.Object(
  {
    name: DnsName,
    type: RecordType,
    ttl: Type.Optional(Ttl),
    /** RDATA in presentation format, e.g. `10 mail.example.net.` for MX. */
    value: Type.String({ minLength: 1, maxLength: 65535 }),
  },
  strict,
);

/** Online DNSSEC for a zone (apps/dns/README.md, "DNSSEC"). Present and not disabled: signed. */
export const ZoneDnssecConfig = Type.Object(
  {
    /** false keeps the keys but serves the zone unsigned (remove the DS at the parent first). */
    enabled: Type.Optional(Type.Boolean()),
    algorithm: Type.Optional(Type.Union([Type.Literal('ECDSAP256SHA256'), Type.Literal('ED25519')])),
    /** One combined signing key, or a KSK that signs the DNSKEY RRset and a ZSK for the rest. */
    keys: Type.Optional(Type.Union([Type.Literal('ksk-zsk'), Type.Literal('csk')])),
    /** How long a signature is valid (default 14d); re-signed when less than `refresh` is left (7d). */
    signatureValidity: Type.Optional(Duration),
    refresh: Type.Optional(Duration),
    /** Random extra validity per signature (default 12h), so expiries do not all fall together. */
    jitter: Type.Optional(Duration),
    /** TTL of the DS RRset at the parent (default 86400), the wait of a KSK rollover. */
    parentDsTtl: Type.Optional(Ttl),
  },
  strict,
);

export const ZoneConfig = Type.Object(
  {
    name: DnsName,
    ttl: Type.Optional(Ttl),
    soa: Soa,
    ns: Type.Array(DnsName, { minItems: 1 }),
    records: Type.Optional(Type.Array(ZoneRecordConfig)),
    dnssec: Type.Optional(ZoneDnssecConfig),
  },
  strict,
);

export const EdgeDsrConfig = Type.Object(
  {
    /** Encapsulation towards the targets: IP-in-IP (default) or GUE (IP directly over UDP). */
    encap: Type.Optional(Type.Union([Type.Literal('ipip'), Type.Literal('gue')])),
    /** UDP destination port of GUE (default 6080): the same on every edge that sends GUE. */
    guePort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    /** Clients always shed (while shedding is on) or never shed, by longest matching prefix. */
    clientPrefixes: Type.Optional(
      Type.Array(
        Type.Object({ cidr: CidrText, mode: Type.Union([Type.Literal('always'), Type.Literal('never')]) }, strict),
        { maxItems: 4096 },
      ),
    ),
  },
  strict,
);

/**
 * Watermarks of DNS load spreading, as fractions of the edge's effective threshold
 * (edge-rules.ts); `false`: none (the edge is skipped whole once it reaches its threshold).
 */
export const WatermarksConfig = Type.Union([
  Type.Object(
    {
      low: Type.Number({ minimum: 0, maximum: 1 }),
      high: Type.Number({ minimum: 0, maximum: 1 }),
    },
    strict,
  ),
  Type.Literal(false),
]);

export const EdgeConfig = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    location: Type.Object(
      {
        lat: Type.Number({ minimum: -90, maximum: 90 }),
        lon: Type.Number({ minimum: -180, maximum: 180 }),
        country: CountryCode,
        continent: ContinentCode,
        region: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
      },
      strict,
    ),
    capacity: Type.Object(
      {
        rps: Type.Number({ exclusiveMinimum: 0, description: 'requests per second' }),
        gbps: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
      },
      strict,
    ),
    state: Type.Optional(EdgeState),
    override: Type.Optional(EdgeOverride),
    /**
     * Address that other edges' XDP programs encapsulate shed flows to: this edge's own
     * unicast address, never inside an anycast prefix that other edges announce.
     */
    dsrAddress: Type.Optional(IpText),
    /** How this edge sheds by DSR (its XDP program's sending side). */
    dsr: Type.Optional(EdgeDsrConfig),
    /** DNS load spreading for this edge (default: `settings.watermarks`, else 0.8 and 0.95). */
    watermarks: Type.Optional(WatermarksConfig),
  },
  strict,
);

export const ServiceConfig = Type.Object(
  {
    name: DnsName,
    zone: DnsName,
    ttl: Type.Optional(Ttl),
    policy: Type.Optional(Name),
    /** TCP ports served on the service addresses (the VIPs of DSR shedding); default 80 and 443. */
    ports: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { minItems: 1 })),
    anycast: Type.Object({ v4: Type.Optional(IpText), v6: Type.Optional(IpText) }, strict),
    /** Per edge, the unicast addresses to answer with. */
    addresses: Type.Record(
      Name,
      Type.Object({ v4: Type.Optional(Type.Array(IpText)), v6: Type.Optional(Type.Array(IpText)) }, strict),
    ),
  },
  strict,
);

export const PrefixConfig = Type.Union([
  Type.Object(
    {
      cidr: CidrText,
      kind: Type.Literal('unicast'),
      edge: Name,
      supernet: Type.Optional(CidrText),
      communities: Type.Optional(Type.Array(CommunityText)),
    },
    strict,
  ),
  Type.Object(
    {
      cidr: CidrText,
      kind: Type.Literal('anycast'),
      announcers: Type.Array(Name, { minItems: 1 }),
      communities: Type.Optional(Type.Array(CommunityText)),
    },
    strict,
  ),
]);

export const TransitConfig = Type.Object(
  {
    name: Name,
    asn: Type.Integer({ minimum: 1, maximum: 4294967295 }),
    /** Named intents (e.g. `prepend-2x`) mapped to this provider's community values. */
    intents: Type.Record(Type.String({ minLength: 1 }), Type.Array(CommunityText, { minItems: 1 })),
  },
  strict,
);

export const PolicyConfig = Type.Object(
  { name: Name, description: Type.Optional(Type.String({ maxLength: 1000 })), rules: Type.Array(PolicyRule) },
  strict,
);

export const SloConfig = Type.Object(
  {
    name: Name,
    edge: Type.Optional(Name),
    metric: SloMetric,
    /** Enter threshold (e.g. utilisation 0.85) and the lower exit threshold (hysteresis). */
    enter: Type.Number({ minimum: 0 }),
    exit: Type.Number({ minimum: 0 }),
    window: Duration,
    query: Type.Optional(Type.String({ maxLength: 4096, description: 'PromQL; {edge} is replaced by the edge name' })),
    /** An objective with an error budget, evaluated as multi-window burn rates (slo-objective.ts). */
    objective: Type.Optional(SloObjective),
  },
  strict,
);

export const PlaybookConfig = Type.Object(
  {
    name: Name,
    mode: Type.Optional(PlaybookMode),
    trigger: PlaybookTrigger,
    steps: Type.Array(PlaybookStep, { minItems: 1 }),
    cooldown: Type.Optional(Duration),
  },
  strict,
);

export const SettingsConfig = Type.Object(
  {
    /** K of safety rule 2: healthy edges with headroom announcing the covering supernet. */
    coverageMinAnnouncers: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    /** M and X % of safety rule 3. */
    maxEdgesShed: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    maxCapacityShedPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    routeChangesPerPrefixPerHour: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    maxAnnounceLengthV4: Type.Optional(Type.Integer({ minimum: 8, maximum: 32 })),
    maxAnnounceLengthV6: Type.Optional(Type.Integer({ minimum: 16, maximum: 128 })),
    /** Resolvers whose ECS option is honoured; empty or absent means every resolver. */
    ecsTrustedResolvers: Type.Optional(Type.Array(CidrText)),
    /** Seconds after which an edge whose agents stopped reporting is of unknown health (automation: not healthy). */
    agentReportStaleSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
    /** DNS load spreading of every edge without its own `watermarks` (default 0.8 and 0.95 of its threshold). */
    watermarks: Type.Optional(WatermarksConfig),
  },
  strict,
);

export const CatchmentConfig = Type.Object(
  {
    settings: Type.Optional(SettingsConfig),
    zones: Type.Optional(Type.Array(ZoneConfig)),
    edges: Type.Optional(Type.Array(EdgeConfig)),
    transits: Type.Optional(Type.Array(TransitConfig)),
    prefixes: Type.Optional(Type.Array(PrefixConfig)),
    policies: Type.Optional(Type.Array(PolicyConfig)),
    services: Type.Optional(Type.Array(ServiceConfig)),
    slos: Type.Optional(Type.Array(SloConfig)),
    playbooks: Type.Optional(Type.Array(PlaybookConfig)),
  },
  strict,
);

export type CatchmentConfig = Static<typeof CatchmentConfig>;
export type ZoneConfig = Static<typeof ZoneConfig>;
export type ZoneDnssecConfig = Static<typeof ZoneDnssecConfig>;
export type EdgeConfig = Static<typeof EdgeConfig>;
export type EdgeDsrConfig = Static<typeof EdgeDsrConfig>;
export type ServiceConfig = Static<typeof ServiceConfig>;
export type PrefixConfig = Static<typeof PrefixConfig>;
export type PolicyConfig = Static<typeof PolicyConfig>;
export type SloConfig = Static<typeof SloConfig>;
export type PlaybookConfig = Static<typeof PlaybookConfig>;
export type TransitConfig = Static<typeof TransitConfig>;
export type SettingsConfig = Static<typeof SettingsConfig>;
export type WatermarksConfig = Static<typeof WatermarksConfig>;
