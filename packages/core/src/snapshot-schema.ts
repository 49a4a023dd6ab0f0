import { type Static, Type } from 'typebox';
import {
  CidrText,
  CommunityText,
  ContinentCode,
  CountryCode,
  DnsName,
  EdgeOverride,
  EdgeState,
  IpText,
  Name,
  PolicyRule,
  RecordType,
  Soa,
  Ttl,
} from './schema-common.ts';

/**
 * The published snapshot: everything a DNS server or an edge agent needs, compiled
 * from the database and the active actions. Immutable once published; consumers
 * verify the schema and the checksum before swapping it in.
 *
 * All DNS names are lower case, absolute, without the final dot (`www.example.net`).
 */
const strict = { additionalProperties: false } as const;

/**
 * A DNSSEC key as DNS servers see it. The private key is present only for keys that sign, and
 * only as ciphertext under the key-encryption key (DNS servers hold the KEK; nothing else that
 * reads snapshots does).
 */
export const SnapshotDnssecKey = Type.Object(
  {
    tag: Type.Integer({ minimum: 0, maximum: 65535 }),
    role: Type.Union([Type.Literal('ksk'), Type.Literal('zsk'), Type.Literal('csk')]),
    algorithm: Type.Union([Type.Literal(13), Type.Literal(15)]),
    flags: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** DNSKEY public key field, base64. */
    publicKey: Type.String(),
    /** Signs: a ZSK or CSK the zone's RRsets, a KSK or CSK the DNSKEY, CDS and CDNSKEY RRsets. */
    signing: Type.Boolean(),
    /** Listed in CDS and CDNSKEY (the parent should hold its DS). */
    ds: Type.Boolean(),
    privateKey: Type.Optional(Type.String()),
  },
  strict,
);

export const SnapshotDnssec = Type.Object(
  {
    /** Seconds: signature validity, re-signing margin, random extra validity. */
    validity: Type.Integer({ minimum: 3600 }),
    refresh: Type.Integer({ minimum: 60 }),
    jitter: Type.Integer({ minimum: 0 }),
    keys: Type.Array(SnapshotDnssecKey),
  },
  strict,
);

export const SnapshotZone = Type.Object(
  {
    name: DnsName,
    ttl: Ttl,
    soa: Soa,
    ns: Type.Array(DnsName),
    records: Type.Array(Type.Object({ name: DnsName, type: RecordType, ttl: Ttl, value: Type.String() }, strict)),
    /** Absent: the zone is served unsigned. */
    dnssec: Type.Optional(SnapshotDnssec),
  },
  strict,
);

/**
 * What the edge's agents last reported they observe (packages/core observed.ts): compiled from
 * their reports, so automation judges routes and health on what the speakers really do.
 */
export const SnapshotObserved = Type.Object(
  {
    /** The latest report of the edge's agents (ISO time); null when none ever reported. */
    reportedAt: Type.Union([Type.String(), Type.Null()]),
    /** The agents' own verdict: speaker readable, an established session, checks up, no apply error. */
    healthy: Type.Boolean(),
    /** Why not healthy, or why unknown (no report within the bound), for people. */
    problems: Type.Array(Type.String()),
    /** Prefixes exported on at least one established BGP session; null when the speaker could not be read. */
    exported: Type.Union([Type.Array(CidrText), Type.Null()]),
    /**
     * Per exported prefix, the communities every established session exporting it carries
     * (absent: not reported). What a communities step's verification reads.
     */
    communities: Type.Optional(Type.Record(Type.String(), Type.Array(CommunityText))),
    /**
     * The DSR state the agents' XDP appliers last wrote to the maps (`fraction` 0-1); null
     * when no agent reports one. What a dsr-shed step's verification reads.
     */
    dsr: Type.Optional(
      Type.Union([
        Type.Object({ enabled: Type.Boolean(), fraction: Type.Number({ minimum: 0, maximum: 1 }) }),
        Type.Null(),
      ]),
    ),
  },
  strict,
);

export const SnapshotEdge = Type.Object(
  {
    name: Name,
    lat: Type.Number(),
    lon: Type.Number(),
    country: CountryCode,
    continent: ContinentCode,
    region: Type.Union([Type.String(), Type.Null()]),
    capacityRps: Type.Number(),
    /** Configured state and operator override, and the state they resolve to. */
    state: EdgeState,
    override: EdgeOverride,
    /** Whether DNS may answer with this edge at all (active or force-up, not force-down). */
    usable: Type.Boolean(),
    /** Last reported load in requests/s, and load / capacity; null when never reported. */
    loadRps: Type.Union([Type.Number(), Type.Null()]),
    /** When that load was reported (ISO time; absent in bodies built by hand): a step's verification needs a newer one. */
    loadReportedAt: Type.Optional(Type.String()),
    utilisation: Type.Union([Type.Number(), Type.Null()]),
    /**
     * The utilisation this edge may reach as a target of moved load: its effective SLO
     * threshold (edge-rules.ts effectiveThreshold), the same number for DNS, API and controller.
     */
    threshold: Type.Number({ minimum: 0 }),
    /** Percentage (0-100) of this edge's DNS answers shifted to other edges. */
    shiftPercent: Type.Number({ minimum: 0, maximum: 100 }),
    /** Optional explicit targets for the shift (else: usable edges with headroom). */
    shiftTargets: Type.Array(Name),
    dsrAddress: Type.Union([IpText, Type.Null()]),
    /**
     * The agents' observation (compiled by the API from their reports). Absent in bodies
     * built without a database (hand-made tests): those judge on the intended state.
     */
    observed: Type.Optional(SnapshotObserved),
    /**
     * DNS load spreading by headroom (edge-rules.ts edgeWatermarks): the watermarks in
     * utilisation, the estimated demand (load with nothing moved by them; null when the load
     * is unknown) and the percentage of the edge's client blocks they move. Absent in
     * snapshots from before watermarks: nothing moves.
     */
    watermarks: Type.Optional(
      Type.Object(
        {
          low: Type.Number({ minimum: 0 }),
          high: Type.Number({ minimum: 0 }),
          demandRps: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
          percent: Type.Integer({ minimum: 0, maximum: 100 }),
        },
        strict,
      ),
    ),
  },
  strict,
);

export const SnapshotService = Type.Object(
  {
    name: DnsName,
    zone: DnsName,
    ttl: Ttl,
    policy: Type.Union([Name, Type.Null()]),
    ports: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 })),
    anycast: Type.Object({ v4: Type.Union([IpText, Type.Null()]), v6: Type.Union([IpText, Type.Null()]) }, strict),
    addresses: Type.Array(Type.Object({ edge: Name, v4: Type.Array(IpText), v6: Type.Array(IpText) }, strict)),
  },
  strict,
);

export const SnapshotPolicy = Type.Object({ name: Name, rules: Type.Array(PolicyRule) }, strict);

export const SnapshotPrefix = Type.Object(
  {
    cidr: CidrText,
    kind: Type.Union([Type.Literal('unicast'), Type.Literal('anycast')]),
    /** Owner of a unicast prefix; null for anycast. */
    edge: Type.Union([Name, Type.Null()]),
    /** Edges announcing an anycast supernet; the owner for unicast. */
    announcers: Type.Array(Name),
    supernet: Type.Union([CidrText, Type.Null()]),
    communities: Type.Array(CommunityText),
  },
  strict,
);

/** One (edge, prefix) announcement in its desired state. */
export const SnapshotAnnouncement = Type.Object(
  {
    edge: Name,
    prefix: CidrText,
    state: Type.Union([Type.Literal('announced'), Type.Literal('withdrawn')]),
    /** Communities on the route itself: every BGP session gets them. */
    communities: Type.Array(CommunityText),
    /**
     * Communities for one transit's sessions only (a resolved intent of that provider),
     * by transit name; absent when there are none.
     */
    transitCommunities: Type.Optional(Type.Record(Name, Type.Array(CommunityText))),
    /** Why it is in this state (action id or rule), for traces and audits. */
    reason: Type.Union([Type.String(), Type.Null()]),
  },
  strict,
);

export const SnapshotTransit = Type.Object(
  {
    name: Name,
    asn: Type.Integer(),
    intents: Type.Record(Type.String(), Type.Array(CommunityText)),
  },
  strict,
);

/** DSR shedding of one edge's XDP program. */
export const SnapshotDsr = Type.Object(
  {
    edge: Name,
    enabled: Type.Boolean(),
    /** Share of new flows shed, in parts per 65536. */
    fraction: Type.Integer({ minimum: 0, maximum: 65536 }),
    targets: Type.Array(Type.Object({ edge: Name, address: IpText, weight: Type.Integer({ minimum: 1 }) }, strict)),
    /** Service addresses (VIPs) handled by the program, with ports. */
    vips: Type.Array(Type.Object({ address: IpText, port: Type.Integer({ minimum: 0, maximum: 65535 }) }, strict)),
    seed: Type.Integer({ minimum: 0, maximum: 4294967295 }),
    /** Encapsulation towards the targets: IP-in-IP, or GUE (direct IP over UDP to `guePort`). */
    encap: Type.Union([Type.Literal('ipip'), Type.Literal('gue')]),
    /** UDP destination port of GUE; the targets decapsulate on it (unused with ipip). */
    guePort: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** Clients always shed (while enabled) or never shed, by longest matching prefix. */
    clientPrefixes: Type.Array(
      Type.Object({ cidr: CidrText, mode: Type.Union([Type.Literal('always'), Type.Literal('never')]) }, strict),
    ),
  },
  strict,
);

/**
 * A pinned answer (an operator's `pin` action): clients in `cidr` (ECS source or resolver
 * address) or in `country` (GeoIP) get `edge` for the service `name` (null: every service).
 * Exactly one of `cidr` and `country`. The DNS servers' pin resolver comes first in the chain.
 */
export const SnapshotPin = Type.Object(
  {
    action: Type.Integer({ minimum: 1 }),
    edge: Name,
    cidr: Type.Union([CidrText, Type.Null()]),
    country: Type.Union([CountryCode, Type.Null()]),
    name: Type.Union([DnsName, Type.Null()]),
    reason: Type.String(),
    expiresAt: Type.Union([Type.String(), Type.Null()]),
  },
  strict,
);

export const SnapshotSettings = Type.Object(
  {
    coverageMinAnnouncers: Type.Integer(),
    maxEdgesShed: Type.Integer(),
    maxCapacityShedPercent: Type.Number(),
    routeChangesPerPrefixPerHour: Type.Integer(),
    maxAnnounceLengthV4: Type.Integer(),
    maxAnnounceLengthV6: Type.Integer(),
    ecsTrustedResolvers: Type.Array(CidrText),
    /** An edge whose agents have not reported for longer than this is of unknown health (default 30). */
    agentReportStaleSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Default DNS load-spreading watermarks, fractions of each edge's threshold, or false (edges carry their own, resolved). */
    watermarks: Type.Optional(
      Type.Union([
        Type.Object(
          { low: Type.Number({ minimum: 0, maximum: 1 }), high: Type.Number({ minimum: 0, maximum: 1 }) },
          strict,
        ),
        Type.Literal(false),
      ]),
    ),
  },
  strict,
);

export const SnapshotBody = Type.Object(
  {
    zones: Type.Array(SnapshotZone),
    edges: Type.Array(SnapshotEdge),
    services: Type.Array(SnapshotService),
    policies: Type.Array(SnapshotPolicy),
    prefixes: Type.Array(SnapshotPrefix),
    announcements: Type.Array(SnapshotAnnouncement),
    transits: Type.Array(SnapshotTransit),
    dsr: Type.Array(SnapshotDsr),
    automation: Type.Object({ frozen: Type.Boolean(), frozenEdges: Type.Array(Name) }, strict),
    settings: SnapshotSettings,
    /** Pinned answers, in precedence order of creation; absent when there are none. */
    pins: Type.Optional(Type.Array(SnapshotPin)),
  },
  strict,
);

export const Snapshot = Type.Object(
  {
    schema: Type.Literal(1),
    version: Type.Integer({ minimum: 1 }),
    createdAt: Type.String(),
    /** `sha256:<hex>` of the canonical JSON of `body`. */
    checksum: Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }),
    body: SnapshotBody,
  },
  strict,
);

export type SnapshotBody = Static<typeof SnapshotBody>;
export type Snapshot = Static<typeof Snapshot>;
export type SnapshotZone = Static<typeof SnapshotZone>;
export type SnapshotDnssec = Static<typeof SnapshotDnssec>;
export type SnapshotDnssecKey = Static<typeof SnapshotDnssecKey>;
export type SnapshotEdge = Static<typeof SnapshotEdge>;
export type SnapshotObserved = Static<typeof SnapshotObserved>;
export type SnapshotService = Static<typeof SnapshotService>;
export type SnapshotPolicy = Static<typeof SnapshotPolicy>;
export type SnapshotPrefix = Static<typeof SnapshotPrefix>;
export type SnapshotAnnouncement = Static<typeof SnapshotAnnouncement>;
export type SnapshotDsr = Static<typeof SnapshotDsr>;
export type SnapshotTransit = Static<typeof SnapshotTransit>;
export type SnapshotSettings = Static<typeof SnapshotSettings>;
export type SnapshotPin = Static<typeof SnapshotPin>;
