import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  type ActiveAction,
  CatchmentError,
  CidrText,
  CountryCode,
  Duration,
  type FieldError,
  IpText,
  Name,
  parseDuration,
  schemaErrors,
} from '@catchment/core';
import { communityTextProblem } from '@catchment/routing';
import { type Static, Type } from 'typebox';
import { parseDocument } from 'yaml';
import type { CommunityEffect } from './communities.ts';
import { DEFAULT_DIURNAL_CURVE } from './diurnal.ts';

const Share = Type.Number({ minimum: 0, maximum: 1 });

/** Client /24s (or /48s): per country from the GeoIP database, or one listed block. */
const ClientBlock = Type.Union([
  Type.Object(
    {
      country: CountryCode,
      rps: Type.Number({ minimum: 0, description: 'requests per second of all the blocks together' }),
      blocks: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'how many /24s (default 100)' }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { cidr: CidrText, rps: Type.Number({ minimum: 0 }), country: Type.Optional(CountryCode) },
    { additionalProperties: false },
  ),
]);

const PublicResolver = Type.Object(
  {
    name: Name,
    /** Where its queries come from (the DNS server decides by this address without ECS). */
    address: IpText,
    ecs: Type.Boolean(),
    share: Share,
    /** Its cache behaviour for every instance (default: drawn from `caches` like ISP resolvers). */
    cache: Type.Optional(Type.Union([Type.Literal('honour'), Type.Literal('clamp'), Type.Literal('stale')])),
  },
  { additionalProperties: false },
);

const Caches = Type.Object(
  {
    honour: Type.Optional(Share),
    clamp: Type.Optional(Share),
    stale: Type.Optional(Share),
    clampMin: Type.Optional(Duration),
    staleExtra: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

const Resolvers = Type.Object(
  {
    publicShare: Type.Optional(Share),
    public: Type.Optional(Type.Array(PublicResolver, { maxItems: 100 })),
    ispPerCountry: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    ispEcs: Type.Optional(Type.Boolean()),
    caches: Type.Optional(Caches),
    /**
     * When each cache entry refreshes: `random` (default) spreads refreshes over the lifetime;
     * `aligned` refreshes every entry at multiples of its lifetime (worked examples, worst cases).
     */
    phase: Type.Optional(Type.Union([Type.Literal('random'), Type.Literal('aligned')])),
  },
  { additionalProperties: false },
);

const RouteOverride = Type.Object(
  { country: CountryCode, prefix: CidrText, edge: Name },
  { additionalProperties: false },
);

const Pref = Type.Integer({ minimum: 0, maximum: 4294967295 });

/** What a community value does at a transit (communities.ts). */
const CommunityEffectDoc = Type.Object(
  {
    prepend: Type.Optional(Type.Integer({ minimum: 0, maximum: 16 })),
    localPref: Type.Optional(Pref),
    noExport: Type.Optional(Type.Boolean()),
    noExportTo: Type.Optional(Type.Array(Name, { maxItems: 100 })),
    reject: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** An edge's link to a transit: how the transit ranks the routes it learns over it. */
const TransitLink = Type.Object(
  { localPref: Type.Optional(Pref), med: Type.Optional(Pref) },
  { additionalProperties: false },
);

/** One transit of the configuration, as the routing model sees it (transits.ts). */
const TransitModelDoc = Type.Object(
  {
    /** The edges that buy from it (default every edge), as a list or with their link's ranking. */
    edges: Type.Optional(Type.Union([Type.Array(Name, { maxItems: 10_000 }), Type.Record(Type.String(), TransitLink)])),
    /** The transits it exchanges its customers' routes with (default every other one). */
    peers: Type.Optional(Type.Array(Name, { maxItems: 100 })),
    peerLocalPref: Type.Optional(Pref),
    /** Its community catalogue, by value, over the default one. */
    communities: Type.Optional(Type.Record(Type.String(), CommunityEffectDoc)),
  },
  { additionalProperties: false },
);

const Routing = Type.Object(
  {
    propagationDelay: Type.Optional(Duration),
    overrides: Type.Optional(Type.Array(RouteOverride, { maxItems: 100_000 })),
    transits: Type.Optional(Type.Record(Type.String(), TransitModelDoc)),
    /** Per country, the transit its clients reach the edges through, or transits by weight. */
    countries: Type.Optional(
      Type.Record(Type.String(), Type.Union([Name, Type.Record(Type.String(), Type.Number({ exclusiveMinimum: 0 }))])),
    ),
  },
  { additionalProperties: false },
);

const EdgeModel = Type.Object(
  { capacity: Type.Optional(Type.Number({ exclusiveMinimum: 0 })) },
  { additionalProperties: false },
);

const Where = {
  edge: Type.Optional(Name),
  countries: Type.Optional(Type.Array(CountryCode, { minItems: 1, maxItems: 300 })),
};

const FlashCrowd = Type.Object(
  {
    kind: Type.Literal('flash-crowd'),
    at: Duration,
    duration: Type.Optional(Duration),
    ramp: Type.Optional(Duration),
    factor: Type.Number({ minimum: 0, maximum: 1000 }),
    ...Where,
  },
  { additionalProperties: false },
);

const EdgeFailure = Type.Object(
  { kind: Type.Literal('edge-failure'), at: Duration, duration: Type.Optional(Duration), edge: Name },
  { additionalProperties: false },
);

/** A transit's routes vanish: its regions go to the country's other transits, or nowhere. */
const TransitOutage = Type.Object(
  { kind: Type.Literal('transit-outage'), at: Duration, duration: Type.Optional(Duration), transit: Name },
  { additionalProperties: false },
);

/** A share of the resolvers empty their caches at once and re-query: their clients take the current answers. */
const CacheFlush = Type.Object(
  { kind: Type.Literal('cache-flush'), at: Duration, share: Share },
  { additionalProperties: false },
);

/** Demand per country follows a daily curve in its local time: off, or 24 hourly factors. */
const Diurnal = Type.Union([
  Type.Boolean(),
  Type.Object(
    { curve: Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 1e6 }), { minItems: 24, maxItems: 24 }) },
    { additionalProperties: false },
  ),
]);

const ScriptedAction = Type.Object(
  {
    at: Duration,
    kind: Type.Union([
      Type.Literal('dns-shift'),
      Type.Literal('withdraw-unicast'),
      Type.Literal('dsr-shed'),
      Type.Literal('drain'),
      Type.Literal('communities'),
    ]),
    edge: Name,
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    until: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

export const STRATEGIES = [
  'none',
  'dns-ttl30',
  'dns-ttl60',
  'dns-ttl300',
  'dns-withdraw',
  'dns-dsr',
  'full',
  'scripted',
] as const;
export type StrategyName = (typeof STRATEGIES)[number];

export const Scenario = Type.Object(
  {
    /** The Catchment configuration (relative to the scenario file); default the demo's. */
    config: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    /**
     * A GeoIP2 City (or Country) file, MaxMind layout (relative to the scenario file), for the
     * client blocks and the DNS answers; default the embedded database.
     */
    geoip: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    duration: Duration,
    start: Type.Optional(Type.String({ format: 'date-time' })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
    clients: Type.Array(ClientBlock, { minItems: 1, maxItems: 100_000 }),
    resolvers: Type.Optional(Resolvers),
    routing: Type.Optional(Routing),
    edges: Type.Optional(Type.Record(Type.String(), EdgeModel)),
    alert: Type.Optional(
      Type.Object(
        {
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'alertname' })),
          threshold: Type.Optional(Share),
          for: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    controller: Type.Optional(
      Type.Object(
        {
          /** The controller's tick (how often it evaluates, and the agents' load report interval); default 2s. */
          tick: Type.Optional(Duration),
          /**
           * The API's load-only publications (CATCHMENT_LOAD_PUBLISH_INTERVAL, 10s in an
           * installation): at most one per interval, only when the DNS answers would change.
           * Default: none, only the controller's own publications (as before this setting).
           */
          loadPublishInterval: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    dsr: Type.Optional(
      Type.Object(
        { connectionSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86400 })), cost: Type.Optional(Share) },
        { additionalProperties: false },
      ),
    ),
    events: Type.Optional(
      Type.Array(Type.Union([FlashCrowd, EdgeFailure, TransitOutage, CacheFlush]), { maxItems: 1000 }),
    ),
    /** The clients' daily curve (default off): `true` for the default one, or `{ curve: [24 factors] }`. */
    diurnal: Type.Optional(Diurnal),
    actions: Type.Optional(Type.Array(ScriptedAction, { maxItems: 10_000 })),
    strategies: Type.Optional(
      Type.Array(Type.Union(STRATEGIES.map((s) => Type.Literal(s))), { minItems: 1, maxItems: STRATEGIES.length }),
    ),
  },
  { additionalProperties: false },
);
export type ScenarioDoc = Static<typeof Scenario>;

/** Published or documented defaults (docs/simulate.md says where each comes from). */
export const DEFAULTS = {
  publicShare: 0.28,
  public: [
    // Google Public DNS sends ECS truncated to /24 (IPv4) and /56 (IPv6); 1.1.1.1 sends none.
    { name: 'google', address: '8.8.8.8', ecs: true, share: 0.6 },
    { name: 'cloudflare', address: '1.1.1.1', ecs: false, share: 0.4 },
  ],
  ispPerCountry: 20,
  ispEcs: false,
  caches: { honour: 0.8, clamp: 0.15, stale: 0.05, clampMinS: 300, staleExtraS: 600 },
  propagationDelayS: 30,
  // The monitoring kit's rule (deploy/monitoring/prometheus/rules/catchment.rules.yml).
  alert: { name: 'EdgeOverloaded', threshold: 0.9, forS: 60 },
  dsr: { connectionSeconds: 10, cost: 0.02 },
  // The controller's default schedule (CATCHMENT_CONTROLLER_TICK, every 2 s).
  controllerTickS: 2,
  blocksPerCountry: 100,
  start: '2026-12-01T18:00:00.000Z',
} as const;

const seconds = (d: string | undefined, fallback: number) => (d === undefined ? fallback : parseDuration(d) / 1000);

export interface ScenarioEvent {
  kind: 'flash-crowd' | 'edge-failure' | 'transit-outage' | 'cache-flush';
  atS: number;
  endS: number;
  rampS: number;
  factor: number;
  edge: string | undefined;
  countries: string[] | undefined;
  /** transit-outage: the configuration's transit whose routes vanish. */
  transit: string | undefined;
  /** cache-flush: the share of resolvers whose caches empty. */
  share: number;
}

export interface ScriptedStep {
  atS: number;
  untilS: number | undefined;
  kind: 'dns-shift' | 'withdraw-unicast' | 'dsr-shed' | 'drain' | 'communities';
  edge: string;
  params: Record<string, unknown>;
}

export interface TransitScenario {
  /** The edges that buy from it, with their link's local preference and MED; absent: every edge. */
  edges: Record<string, { localPref?: number; med?: number }> | undefined;
  peers: string[] | undefined;
  peerLocalPref: number | undefined;
  communities: Record<string, CommunityEffect>;
}

/** A scenario with every default filled in and durations in seconds. */
export interface ScenarioModel {
  configPath: string;
  /** GeoIP City file (absolute); undefined: the embedded database. */
  geoipCity: string | undefined;
  service: string | undefined;
  durationS: number;
  start: Date;
  seed: number;
  clients: ScenarioDoc['clients'];
  publicShare: number;
  publicResolvers: {
    name: string;
    address: string;
    ecs: boolean;
    share: number;
    cache?: 'honour' | 'clamp' | 'stale' | undefined;
  }[];
  phase: 'random' | 'aligned';
  ispPerCountry: number;
  ispEcs: boolean;
  caches: { honour: number; clamp: number; stale: number; clampMinS: number; staleExtraS: number };
  propagationDelayS: number;
  routeOverrides: { country: string; prefix: string; edge: string }[];
  /** The routing model's transits, by the configuration's names (transits.ts fills in the rest). */
  transits: Record<string, TransitScenario>;
  /** Per country, the transits its clients reach the edges through, by weight. */
  countryTransits: Record<string, Record<string, number>>;
  edgeCapacity: Map<string, number>;
  alert: { name: string; threshold: number; forS: number };
  controllerTickS: number;
  /** Seconds between load-only publications; null: none. */
  loadPublishIntervalS: number | null;
  dsr: { connectionSeconds: number; cost: number };
  events: ScenarioEvent[];
  /** The clients' daily curve (24 hourly factors, local time), or null: constant demand. */
  diurnal: readonly number[] | null;
  actions: ScriptedStep[];
  strategies: StrategyName[];
  /** Set when the scenario starts from a running installation's present (from-now.ts). */
  fromNow?: FromNowState;
}

/**
 * The present a from-now scenario starts in: the one edge whose alert is simulated (the
 * playbook acts there), which already carries its past (over the threshold at the start
 * counts as over for the alert's whole `for`), and the actions in force, as they are.
 */
export interface FromNowState {
  playbook: string;
  edge: string;
  actions: ActiveAction[];
}

function invalid(source: string, errors: FieldError[]): CatchmentError {
  return new CatchmentError('SCENARIO_INVALID', `${source} has ${errors.length} error(s)`, { errors });
}

/** Checks what the schema cannot: shares that add up, times inside the run. */
function ruleErrors(doc: ScenarioDoc, durationS: number): FieldError[] {
  const errors: FieldError[] = [];
  const c = doc.resolvers?.caches;
  if (c && (c.honour !== undefined || c.clamp !== undefined || c.stale !== undefined)) {
    const sum = (c.honour ?? 0) + (c.clamp ?? 0) + (c.stale ?? 0);
    if (Math.abs(sum - 1) > 1e-9)
      errors.push({ path: '/resolvers/caches', message: `honour + clamp + stale must be 1 (is ${sum})` });
  }
  const pub = doc.resolvers?.public;
  if (pub && pub.length > 0) {
    const sum = pub.reduce((n, r) => n + r.share, 0);
    if (Math.abs(sum - 1) > 1e-9)
      errors.push({ path: '/resolvers/public', message: `the public resolvers' shares must add up to 1 (is ${sum})` });
  }
  (doc.events ?? []).forEach((e, i) => {
    if (parseDuration(e.at) / 1000 >= durationS)
      errors.push({ path: `/events/${i}/at`, message: 'must be before the end of the scenario' });
    if (e.kind === 'flash-crowd' && (e.edge === undefined) === (e.countries === undefined))
      errors.push({ path: `/events/${i}`, message: 'a flash crowd names either an edge or countries' });
  });
  (doc.actions ?? []).forEach((a, i) => {
    if (parseDuration(a.at) / 1000 >= durationS)
      errors.push({ path: `/actions/${i}/at`, message: 'must be before the end of the scenario' });
  });
  errors.push(...routingErrors(doc));
  const tick = doc.controller?.tick;
  if (tick !== undefined) {
    const ms = parseDuration(tick);
    if (ms < 1000 || ms % 1000 !== 0)
      errors.push({
        path: '/controller/tick',
        message: 'whole seconds, at least 1s (the simulation runs second by second)',
      });
  }
  if (doc.start !== undefined && Number.isNaN(Date.parse(doc.start)))
    errors.push({ path: '/start', message: 'must be an RFC 3339 date-time' });
  return errors;
}

/** The routing keys the schema cannot check: country codes and community values. */
function routingErrors(doc: ScenarioDoc): FieldError[] {
  const errors: FieldError[] = [];
  for (const [name, t] of Object.entries(doc.routing?.transits ?? {})) {
    for (const value of Object.keys(t.communities ?? {})) {
      const problem = communityTextProblem(value);
      if (problem) errors.push({ path: `/routing/transits/${name}/communities/${value}`, message: problem });
    }
  }
  for (const code of Object.keys(doc.routing?.countries ?? {})) {
    if (!/^[A-Z]{2}$/.test(code))
      errors.push({ path: `/routing/countries/${code}`, message: 'must be an ISO 3166-1 alpha-2 code' });
  }
  return errors;
}

const transitScenario = (t: Static<typeof TransitModelDoc>): TransitScenario => ({
  edges: Array.isArray(t.edges) ? Object.fromEntries(t.edges.map((e) => [e, {}])) : t.edges,
  peers: t.peers,
  peerLocalPref: t.peerLocalPref,
  communities: t.communities ?? {},
});

/** Validates a parsed document and fills in the defaults; `base` resolves the config path. */
export function scenarioFrom(value: unknown, base: string, source = 'scenario'): ScenarioModel {
  const schema = schemaErrors(Scenario, value ?? {});
  if (schema.length > 0) throw invalid(source, schema);
  const doc = value as ScenarioDoc;
  const durationS = parseDuration(doc.duration) / 1000;
  const rules = [
    ...(durationS < 1 || durationS > 7 * 86400 ? [{ path: '/duration', message: 'between 1s and 7d' }] : []),
    ...ruleErrors(doc, durationS),
  ];
  if (rules.length > 0) throw invalid(source, rules);
  const r = doc.resolvers ?? {};
  const c = r.caches ?? {};
  const hasShares = c.honour !== undefined || c.clamp !== undefined || c.stale !== undefined;
  const repoRoot = resolve(import.meta.dirname, '../../..');
  return {
    configPath: doc.config ? resolve(base, doc.config) : resolve(repoRoot, 'config/demo.yaml'),
    geoipCity: doc.geoip ? resolve(base, doc.geoip) : undefined,
    service: doc.service,
    durationS,
    start: new Date(doc.start ?? DEFAULTS.start),
    seed: doc.seed ?? 1,
    clients: doc.clients,
    publicShare: r.publicShare ?? DEFAULTS.publicShare,
    publicResolvers: (r.public ?? DEFAULTS.public).map((p) => ({ ...p })),
    phase: r.phase ?? 'random',
    ispPerCountry: r.ispPerCountry ?? DEFAULTS.ispPerCountry,
    ispEcs: r.ispEcs ?? DEFAULTS.ispEcs,
    caches: {
      honour: hasShares ? (c.honour ?? 0) : DEFAULTS.caches.honour,
      clamp: hasShares ? (c.clamp ?? 0) : DEFAULTS.caches.clamp,
      stale: hasShares ? (c.stale ?? 0) : DEFAULTS.caches.stale,
      clampMinS: seconds(c.clampMin, DEFAULTS.caches.clampMinS),
      staleExtraS: seconds(c.staleExtra, DEFAULTS.caches.staleExtraS),
    },
    propagationDelayS: seconds(doc.routing?.propagationDelay, DEFAULTS.propagationDelayS),
    routeOverrides: doc.routing?.overrides ?? [],
    transits: Object.fromEntries(Object.entries(doc.routing?.transits ?? {}).map(([n, t]) => [n, transitScenario(t)])),
    countryTransits: Object.fromEntries(
      Object.entries(doc.routing?.countries ?? {}).map(([c, v]) => [c, typeof v === 'string' ? { [v]: 1 } : v]),
    ),
    edgeCapacity: new Map(
      Object.entries(doc.edges ?? {}).flatMap(([n, e]) => (e.capacity ? [[n, e.capacity] as const] : [])),
    ),
    alert: {
      name: doc.alert?.name ?? DEFAULTS.alert.name,
      threshold: doc.alert?.threshold ?? DEFAULTS.alert.threshold,
      forS: seconds(doc.alert?.for, DEFAULTS.alert.forS),
    },
    controllerTickS: seconds(doc.controller?.tick, DEFAULTS.controllerTickS),
    loadPublishIntervalS:
      doc.controller?.loadPublishInterval === undefined ? null : seconds(doc.controller.loadPublishInterval, 10),
    dsr: {
      connectionSeconds: doc.dsr?.connectionSeconds ?? DEFAULTS.dsr.connectionSeconds,
      cost: doc.dsr?.cost ?? DEFAULTS.dsr.cost,
    },
    events: (doc.events ?? []).map((e) => {
      const atS = parseDuration(e.at) / 1000;
      return {
        kind: e.kind,
        atS,
        endS: 'duration' in e && e.duration ? atS + parseDuration(e.duration) / 1000 : Number.POSITIVE_INFINITY,
        rampS: e.kind === 'flash-crowd' ? seconds(e.ramp, 0) : 0,
        factor: e.kind === 'flash-crowd' ? e.factor : 0,
        edge: 'edge' in e ? e.edge : undefined,
        countries: e.kind === 'flash-crowd' ? e.countries : undefined,
        transit: e.kind === 'transit-outage' ? e.transit : undefined,
        share: e.kind === 'cache-flush' ? e.share : 0,
      };
    }),
    diurnal: doc.diurnal === true ? DEFAULT_DIURNAL_CURVE : doc.diurnal ? doc.diurnal.curve : null,
    actions: (doc.actions ?? []).map((a) => ({
      atS: parseDuration(a.at) / 1000,
      untilS: a.until ? parseDuration(a.until) / 1000 : undefined,
      kind: a.kind,
      edge: a.edge,
      params: a.params ?? {},
    })),
    strategies: doc.strategies ?? (doc.actions ? ['none', 'scripted'] : ['none', 'full']),
  };
}

/** Parses scenario YAML; every error carries the path of its field (or its line). */
export function parseScenarioText(text: string, base: string, source = 'scenario'): ScenarioModel {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw invalid(
      source,
      doc.errors.map((e) => ({
        path: `line ${e.linePos?.[0]?.line ?? '?'}`,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  }
  return scenarioFrom(doc.toJS(), base, source);
}

export async function loadScenarioFile(path: string): Promise<ScenarioModel> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new CatchmentError('SCENARIO_INVALID', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseScenarioText(text, dirname(resolve(path)), path);
}
