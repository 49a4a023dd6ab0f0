import type { SnapshotBody, SnapshotEdge, WorldEdge } from '@catchment/core';
// The rules themselves from their own module: the DNS server's threads do not load the package's
// schemas and YAML to answer.
import { acceptsMovedLoad, hasHeadroom, headroomRps, movedPercent } from '@catchment/core/edge-rules';
import type { GeoInfo } from './geodb.ts';
import { type Address, type Network, parseNetwork } from './ip.ts';

/**
 * The edge choice as a chain of small resolvers, gdnsd style: operator pins first (pins.ts),
 * then explicit policy rules
 * (client CIDR, then ASN, country, continent), else the nearest usable edge with headroom,
 * else the service's anycast fallback. Each step appends to the trace, so "explain this
 * client" reads exactly what the answer tables were built from.
 */
export interface TraceStep {
  step: 'pin' | 'rule' | 'nearest' | 'fallback' | 'skip' | 'shift' | 'watermark' | 'geo' | 'ecs';
  detail: string;
}

export interface Choice {
  /** Index into the class's edges; -1 for the anycast fallback. */
  edge: number;
  reason: 'rule' | 'nearest' | 'fallback';
}

export interface CidrRule {
  network: Network;
  edges: string[];
  index: number;
}

/** A policy prepared for lookups: CIDR rules by network, the others by key. */
export interface PreparedPolicy {
  name: string | null;
  cidrRules: CidrRule[];
  asnRules: Map<number, { edges: string[]; index: number }>;
  countryRules: Map<string, { edges: string[]; index: number }>;
  continentRules: Map<string, { edges: string[]; index: number }>;
}

export function preparePolicy(body: SnapshotBody, name: string | null): PreparedPolicy {
  const p: PreparedPolicy = {
    name,
    cidrRules: [],
    asnRules: new Map(),
    countryRules: new Map(),
    continentRules: new Map(),
  };
  const policy = name ? body.policies.find((x) => x.name === name) : undefined;
  policy?.rules.forEach((rule, index) => {
    const m = rule.match;
    if ('cidr' in m) {
      const network = parseNetwork(m.cidr);
      if (network) p.cidrRules.push({ network, edges: rule.edges, index });
    } else if ('asn' in m) {
      if (!p.asnRules.has(m.asn)) p.asnRules.set(m.asn, { edges: rule.edges, index });
    } else if ('country' in m) {
      if (!p.countryRules.has(m.country)) p.countryRules.set(m.country, { edges: rule.edges, index });
    } else if (!p.continentRules.has(m.continent)) {
      p.continentRules.set(m.continent, { edges: rule.edges, index });
    }
  });
  // Shorter first: inserting longer networks later lets the longest match win.
  p.cidrRules.sort((a, b) => a.network.length - b.network.length);
  return p;
}

// "Headroom" is core's rule (edge-rules.ts), against the edge's compiled SLO threshold.
export { hasHeadroom, headroomRps };

function usableReason(e: SnapshotEdge): string | undefined {
  if (!e.usable) return `${e.name} not usable (state ${e.state}, override ${e.override})`;
  return undefined;
}

/** First usable edge with headroom (or watermarks) in order, else the first usable one; records skips. */
function firstUsable(order: SnapshotEdge[], trace: TraceStep[] | undefined): SnapshotEdge | undefined {
  let spare: SnapshotEdge | undefined;
  for (const e of order) {
    const why = usableReason(e);
    if (why) {
      trace?.push({ step: 'skip', detail: why });
      continue;
    }
    // An edge with watermarks sheds a share of its blocks as it fills (steering.ts), never all
    // of them at once at its threshold: only one without them (an older snapshot) is skipped.
    if (!e.watermarks && !hasHeadroom(e)) {
      trace?.push({ step: 'skip', detail: `${e.name} has no headroom (utilisation ${e.utilisation})` });
      spare ??= e;
      continue;
    }
    return e;
  }
  if (spare) trace?.push({ step: 'skip', detail: `every candidate is full; ${spare.name} is the least bad` });
  return spare;
}

const RAD = Math.PI / 180;
/** Great-circle distance in km (haversine). */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 12742 * Math.asin(Math.min(1, Math.sqrt(a)));
}

export interface ChoiceInput {
  geo: GeoInfo | undefined;
  asn: number | undefined;
  /** The longest CIDR rule containing the client, if any. */
  cidrRule: CidrRule | undefined;
}

/**
 * Chooses among `edges` (the edges that have addresses for the service). Pure: the same
 * input gives the same choice, which is what lets the tables be precomputed per block.
 */
export function chooseEdge(
  edges: SnapshotEdge[],
  policy: PreparedPolicy,
  input: ChoiceInput,
  trace?: TraceStep[],
): Choice {
  const byName = new Map(edges.map((e, i) => [e.name, i]));
  const ruleOrder = (names: string[]) =>
    names.map((n) => edges[byName.get(n) ?? -1]).filter((e): e is SnapshotEdge => e !== undefined);
  const rules: [string, { edges: string[]; index: number } | undefined][] = [
    ['cidr', input.cidrRule],
    ['asn', input.asn === undefined ? undefined : policy.asnRules.get(input.asn)],
    ['country', input.geo ? policy.countryRules.get(input.geo.country) : undefined],
    ['continent', input.geo ? policy.continentRules.get(input.geo.continent) : undefined],
  ];
  for (const [kind, rule] of rules) {
    if (!rule) continue;
    const label = `policy ${policy.name} rule #${rule.index} (${kind}) → ${rule.edges.join(', ')}`;
    trace?.push({ step: 'rule', detail: label });
    const e = firstUsable(ruleOrder(rule.edges), trace);
    if (e) return { edge: byName.get(e.name)!, reason: 'rule' };
    trace?.push({ step: 'skip', detail: `no edge of rule #${rule.index} can answer; trying the next step` });
    break;
  }
  const geo = input.geo;
  if (!geo) {
    trace?.push({ step: 'fallback', detail: 'location unknown: anycast fallback' });
    return { edge: -1, reason: 'fallback' };
  }
  const order = edges
    .map((e) => ({ e, d: distanceKm(geo.lat, geo.lon, e.lat, e.lon) }))
    .sort((a, b) => a.d - b.d || (a.e.name < b.e.name ? -1 : 1));
  trace?.push({
    step: 'nearest',
    detail: `by distance: ${order.map((o) => `${o.e.name} ${Math.round(o.d)} km`).join(', ')}`,
  });
  const e = firstUsable(
    order.map((o) => o.e),
    trace,
  );
  if (e) return { edge: byName.get(e.name)!, reason: 'nearest' };
  trace?.push({ step: 'fallback', detail: 'no usable edge: anycast fallback' });
  return { edge: -1, reason: 'fallback' };
}

/** FNV-1a over the unit's bytes, its length and a salt: stable across processes and versions. */
export function unitHash(bytes: Uint8Array, length: number, salt: string): number {
  let h = unitPrefixHash(bytes, length);
  for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt.charCodeAt(i), 0x01000193);
  return fmix(h);
}

/** The first part of `unitHash` (bytes and length), shared by every salt of one unit. */
export function unitPrefixHash(bytes: Uint8Array, length: number): number {
  let h = 0x811c9dc5;
  const n = (length + 7) >> 3;
  for (let i = 0; i < n; i++) {
    let b = bytes[i] ?? 0;
    if (i === n - 1 && length & 7) b &= (0xff << (8 - (length & 7))) & 0xff;
    h = Math.imul(h ^ b, 0x01000193);
  }
  return Math.imul(h ^ length, 0x01000193);
}

/** `unitHash` from its prefix hash and the salt's char codes: the table builder's fast path. */
export function saltedUnitHash(prefix: number, salt: Uint16Array): number {
  let h = prefix;
  for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt[i]!, 0x01000193);
  return fmix(h);
}

export function saltCodes(salt: string): Uint16Array {
  const codes = new Uint16Array(salt.length);
  for (let i = 0; i < salt.length; i++) codes[i] = salt.charCodeAt(i);
  return codes;
}

// Final avalanche (murmur3 fmix32) so that neighbouring units spread evenly.
function fmix(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Where a unit falls in [0, 1) for the moves away from `edge`: moved when below the moved share. */
export function shiftPosition(bytes: Uint8Array, length: number, edge: Pick<SnapshotEdge, 'name'>): number {
  return unitHash(bytes, length, `shift:${edge.name}`) / 4294967296;
}

/**
 * Is this unit among the blocks moved away from `edge` (core movedPercent: its DNS shift and
 * its watermarks' share)? Raising either only adds units: a unit keeps its answer until the
 * share crosses its position.
 */
export function isShifted(bytes: Uint8Array, length: number, edge: SnapshotEdge): boolean {
  const percent = movedPercent(edge);
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  return shiftPosition(bytes, length, edge) < percent / 100;
}

/** Shed load goes to the nearest targets that together have this many times its rate in spare room. */
const COVER_FACTOR = 2;
/** ... and to at least this many of them (never dumped on one). */
const MIN_TARGETS = 2;

export interface TargetCandidate {
  name: string;
  lat: number;
  lon: number;
  /** Spare room (requests/s) the candidate can take. */
  room: number;
}

/**
 * The candidates nearest to `from` (great-circle distance) whose room together takes `rps`
 * COVER_FACTOR times over, and at least `min` of them: shed load stays near its clients (a
 * Frankfurt overload spills to Amsterdam and London, not to Sydney) and is never dumped on one
 * edge. Returned in the candidates' order. An unknown rate (0) gives every candidate.
 */
export function nearestWithRoom<T extends TargetCandidate>(
  from: { lat: number; lon: number },
  candidates: T[],
  rps: number,
  min = MIN_TARGETS,
): T[] {
  if (!(rps > 0)) return candidates;
  const ordered = candidates
    .map((c) => ({ c, km: distanceKm(from.lat, from.lon, c.lat, c.lon) }))
    .sort((a, b) => a.km - b.km || (a.c.name < b.c.name ? -1 : 1));
  const chosen = new Set<T>();
  let room = 0;
  for (const { c } of ordered) {
    if (chosen.size >= min && room >= COVER_FACTOR * rps) break;
    chosen.add(c);
    room += c.room;
  }
  return candidates.filter((c) => chosen.has(c));
}

/** What the target rule needs of an edge (a snapshot edge or a world edge). */
export type TargetEdge = Pick<
  WorldEdge,
  'name' | 'state' | 'override' | 'capacityRps' | 'loadRps' | 'threshold' | 'watermarks'
> & {
  lat?: number;
  lon?: number;
};

/**
 * The one target rule for moved load, shared by DNS shifts and by packages/safety's
 * prediction of every change that moves load: the `named` targets that may take load
 * (usable, with headroom, below the high watermark: core acceptsMovedLoad); without names, the nearest usable edges with headroom that
 * together have room for `rps` (nearestWithRoom), at least `min`. `filter` narrows the
 * candidates (DSR: edges with a DSR address). Without coordinates, every candidate.
 */
export function loadTargets<T extends TargetEdge>(
  edges: readonly T[],
  from: { name: string; lat?: number; lon?: number },
  rps: number,
  opts: { named?: readonly string[]; min?: number; filter?: (e: T) => boolean } = {},
): T[] {
  const named = opts.named ?? [];
  const candidates = edges.filter(
    (e) =>
      e.name !== from.name &&
      acceptsMovedLoad(e) &&
      (named.length === 0 || named.includes(e.name)) &&
      (opts.filter ? opts.filter(e) : true),
  );
  if (named.length > 0 || from.lat === undefined || from.lon === undefined) return candidates;
  const placed = candidates.map((e) => ({
    e,
    name: e.name,
    lat: e.lat ?? from.lat ?? 0,
    lon: e.lon ?? from.lon ?? 0,
    room: headroomRps(e),
  }));
  return nearestWithRoom({ lat: from.lat, lon: from.lon }, placed, rps, opts.min).map((c) => c.e);
}

/**
 * Targets of the blocks moved away from an edge, by its DNS shift and its watermarks
 * (loadTargets): the shift's explicit ones; else the nearest usable edges with headroom that
 * have room for the moved load (its demand × the moved percentage).
 */
export function shiftTargets(edges: SnapshotEdge[], from: SnapshotEdge): SnapshotEdge[] {
  const shifted = ((from.watermarks?.demandRps ?? from.loadRps ?? 0) * movedPercent(from)) / 100;
  return loadTargets(edges, from, shifted, { named: from.shiftTargets });
}

/**
 * Weighted rendezvous hashing: each unit goes to the target with the best score, weighted by
 * headroom, so shifted clients spread in proportion to headroom and a unit only moves when its
 * own target changes.
 */
export function pickShiftTarget(bytes: Uint8Array, length: number, targets: SnapshotEdge[]): SnapshotEdge | undefined {
  let best: SnapshotEdge | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const t of targets) {
    const u = (unitHash(bytes, length, `target:${t.name}`) + 0.5) / 4294967296;
    const score = -Math.log(u) / headroomRps(t);
    if (score < bestScore) {
      bestScore = score;
      best = t;
    }
  }
  return best;
}

/**
 * Shift granularity: a block is split into at most 16 units (but never below /24 or /48), so a
 * country-sized block does not move as one piece, yet the tables stay about the same size.
 */
export function shiftUnitLength(family: 4 | 6, blockLength: number): number {
  const finest = family === 4 ? 24 : 48;
  return blockLength >= finest ? blockLength : Math.min(finest, blockLength + 4);
}

export function addressInRule(rule: CidrRule, addr: Address): boolean {
  const n = rule.network;
  if (n.family !== addr.family) return false;
  for (let i = 0; i < n.length; i++) {
    const a = ((addr.bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
    const b = ((n.bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
    if (a !== b) return false;
  }
  return true;
}
