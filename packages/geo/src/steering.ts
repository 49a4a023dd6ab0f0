import type { SnapshotBody, SnapshotEdge } from '@catchment/core';
import type { GeoDb, GeoInfo } from './geodb.ts';
import { type Family, parseNetwork } from './ip.ts';
import {
  type Choice,
  chooseEdge,
  isShifted,
  type PreparedPolicy,
  pickShiftTarget,
  preparePolicy,
  shiftTargets,
  shiftUnitLength,
} from './resolvers.ts';
import { BuilderTrie, FACT_ASN, FACT_LOC, FACT_RULE, type LookupTrie, TrieWriter } from './trie.ts';

/**
 * Answer tables for one snapshot and one set of GeoIP databases, built once at load: for every
 * steering class (policy + the edges that have addresses for the service) a trie whose leaves
 * are the widest blocks over which the answer is the same (gdnsd's scope merging). The query
 * path is then one longest-prefix lookup; the leaf's depth is the ECS scope.
 */
export const MISS = 1 << 20;
export const EDGE_MASK = MISS - 1;

export interface SteeringClass {
  key: string;
  policy: PreparedPolicy;
  /** Edges that can answer for the services of this class (leaf value - 1 indexes these). */
  edges: SnapshotEdge[];
  trie: LookupTrie;
}

export interface SteeringTable {
  classes: SteeringClass[];
  /** Service name → class index. */
  serviceClass: Map<string, number>;
  /** Well-known public resolver addresses: without ECS their location says nothing of the client. */
  publicResolvers: LookupTrie;
  locations: GeoInfo[];
  stats: { blocks: number; buildMs: number };
}

/** Leaf value → class edge index, or -1 for the anycast fallback. */
export function leafEdge(value: number): number {
  return (value & EDGE_MASK) - 1;
}

/** Ranges where a location (if a database had one) says nothing about a client. */
const PRIVATE = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];

/** Anycast addresses of public resolvers (queries from them without ECS get the fallback). */
export const PUBLIC_RESOLVERS = [
  '8.8.8.8/32',
  '8.8.4.4/32',
  '1.1.1.1/32',
  '1.0.0.1/32',
  '9.9.9.9/32',
  '149.112.112.112/32',
  '208.67.222.222/32',
  '208.67.220.220/32',
  '94.140.14.14/32',
  '94.140.15.15/32',
  '2001:4860:4860::8888/128',
  '2001:4860:4860::8844/128',
  '2606:4700:4700::1111/128',
  '2606:4700:4700::1001/128',
  '2620:fe::fe/128',
  '2620:fe::9/128',
  '2620:119:35::35/128',
  '2620:119:53::53/128',
];

interface PolicyTries {
  policy: PreparedPolicy;
  v4: BuilderTrie;
  v6: BuilderTrie;
  /** ASN id (FACT_ASN value) → AS number, shared by all policies. */
  asns: number[];
}

function locationKey(g: GeoInfo): string {
  return `${g.country}|${g.continent}|${g.lat}|${g.lon}`;
}

function buildGeoTries(geo: GeoDb, policies: PreparedPolicy[], locations: GeoInfo[]): Map<string | null, PolicyTries> {
  const locIds = new Map<string, number>();
  const asnIds = new Map<number, number>();
  const asns: number[] = [];
  const base: Record<Family, BuilderTrie[]> = { 4: [], 6: [] };
  const out = new Map<string | null, PolicyTries>();
  for (const policy of policies) {
    const v4 = new BuilderTrie();
    const v6 = new BuilderTrie();
    out.set(policy.name, { policy, v4, v6, asns });
    base[4].push(v4);
    base[6].push(v6);
  }
  for (const family of [4, 6] as const) {
    const tries = base[family];
    geo.forEachLocation(family, (bytes, length, g) => {
      const k = locationKey(g);
      let id = locIds.get(k);
      if (id === undefined) {
        id = locations.length;
        locations.push(g);
        locIds.set(k, id);
      }
      for (const t of tries) t.insert(bytes, length, FACT_LOC, id);
    });
    const withAsn = policies.filter((p) => p.asnRules.size > 0).map((p) => out.get(p.name)!);
    if (withAsn.length > 0) {
      geo.forEachAsn(family, (bytes, length, asn) => {
        let id = asnIds.get(asn);
        if (id === undefined) {
          id = asns.length;
          asns.push(asn);
          asnIds.set(asn, id);
        }
        for (const t of withAsn) (family === 4 ? t.v4 : t.v6).insert(bytes, length, FACT_ASN, id);
      });
    }
    for (const text of PRIVATE) {
      const n = parseNetwork(text)!;
      if (n.family !== family) continue;
      for (const t of tries) {
        t.insert(n.bytes, n.length, FACT_LOC, -1);
        t.insert(n.bytes, n.length, FACT_ASN, -1);
      }
    }
  }
  for (const t of out.values()) {
    t.policy.cidrRules.forEach((rule, i) => {
      (rule.network.family === 4 ? t.v4 : t.v6).insert(rule.network.bytes, rule.network.length, FACT_RULE, i);
    });
  }
  return out;
}

function freezeClass(t: PolicyTries, edges: SnapshotEdge[], locations: GeoInfo[]): LookupTrie {
  const asns = t.asns;
  const writer = new TrieWriter();
  const memo = new Map<number, Choice>();
  const targetsOf = new Map<number, SnapshotEdge[]>();
  const path = new Uint8Array(16);
  const nRules = t.policy.cidrRules.length + 1;
  const nAsn = asns.length + 1;

  const choose = (loc: number, asn: number, rule: number): Choice => {
    const key = ((loc + 1) * nAsn + (asn + 1)) * nRules + (rule + 1);
    let c = memo.get(key);
    if (!c) {
      c = chooseEdge(edges, t.policy, {
        geo: loc >= 0 ? locations[loc] : undefined,
        asn: asn >= 0 ? asns[asn] : undefined,
        cidrRule: rule >= 0 ? t.policy.cidrRules[rule] : undefined,
      });
      memo.set(key, c);
    }
    return c;
  };
  const setBit = (depth: number, bit: number) => {
    const i = depth >> 3;
    const m = 0x80 >> (depth & 7);
    path[i] = bit ? path[i]! | m : path[i]! & ~m;
  };
  const mergeable = (v: number) => (v & MISS) === 0;
  const join = (l: number, r: number): number => (l < 0 && l === r && mergeable(~l) ? l : writer.node(l, r));

  const shiftedValue = (edge: number, unitLength: number): number => {
    const from = edges[edge]!;
    if (!isShifted(path, unitLength, from)) return edge + 1;
    let targets = targetsOf.get(edge);
    if (!targets) {
      targets = shiftTargets(edges, from);
      targetsOf.set(edge, targets);
    }
    const to = pickShiftTarget(path, unitLength, targets);
    return to ? edges.indexOf(to) + 1 : edge + 1;
  };
  const split = (edge: number, depth: number, unitLength: number): number => {
    if (depth === unitLength) return ~shiftedValue(edge, unitLength);
    setBit(depth, 0);
    const l = split(edge, depth + 1, unitLength);
    setBit(depth, 1);
    const r = split(edge, depth + 1, unitLength);
    setBit(depth, 0);
    return join(l, r);
  };
  const freeze = (b: BuilderTrie, node: number, depth: number, family: 4 | 6): number => {
    if (b.left[node] === -1) {
      const loc = b.fact(node, FACT_LOC);
      const rule = b.fact(node, FACT_RULE);
      const c = choose(loc, b.fact(node, FACT_ASN), rule);
      if (c.edge >= 0 && edges[c.edge]!.shiftPercent > 0) {
        return split(c.edge, depth, shiftUnitLength(family, depth));
      }
      // A database miss keeps the database's own block (10/8 stays /8): never widened, never /0.
      const miss = loc === -1 && rule === -1 ? MISS : 0;
      return ~((c.edge + 1) | miss);
    }
    setBit(depth, 0);
    const l = freeze(b, b.left[node]!, depth + 1, family);
    setBit(depth, 1);
    const r = freeze(b, b.right[node]!, depth + 1, family);
    setBit(depth, 0);
    return join(l, r);
  };
  const root = (b: BuilderTrie, family: 4 | 6): number => {
    path.fill(0);
    const r = freeze(b, 0, 0, family);
    return r >= 0 ? r : writer.node(r, r);
  };
  const r4 = root(t.v4, 4);
  const r6 = root(t.v6, 6);
  return writer.finish(r4, r6);
}

function resolverTrie(): LookupTrie {
  const b4 = new BuilderTrie();
  const b6 = new BuilderTrie();
  for (const text of PUBLIC_RESOLVERS) {
    const n = parseNetwork(text)!;
    (n.family === 4 ? b4 : b6).insert(n.bytes, n.length, FACT_LOC, 1);
  }
  const writer = new TrieWriter();
  const freeze = (b: BuilderTrie, node: number): number => {
    if (b.left[node] === -1) return ~Math.max(0, b.fact(node, FACT_LOC));
    const l = freeze(b, b.left[node]!);
    const r = freeze(b, b.right[node]!);
    return l < 0 && l === r ? l : writer.node(l, r);
  };
  const root = (b: BuilderTrie) => {
    const r = freeze(b, 0);
    return r >= 0 ? r : writer.node(r, r);
  };
  const r4 = root(b4);
  const r6 = root(b6);
  return writer.finish(r4, r6);
}

/** Edges that have at least one address for a service, in snapshot order. */
export function serviceEdges(body: SnapshotBody, serviceName: string): SnapshotEdge[] {
  const svc = body.services.find((s) => s.name === serviceName);
  if (!svc) return [];
  const have = new Set(svc.addresses.filter((a) => a.v4.length + a.v6.length > 0).map((a) => a.edge));
  return body.edges.filter((e) => have.has(e.name));
}

export function buildSteering(body: SnapshotBody, geo: GeoDb): SteeringTable {
  const started = performance.now();
  const policyNames = [...new Set(body.services.map((s) => s.policy))];
  const policies = policyNames.map((n) => preparePolicy(body, n));
  const locations: GeoInfo[] = [];
  const tries = buildGeoTries(geo, policies, locations);
  const classes: SteeringClass[] = [];
  const classIndex = new Map<string, number>();
  const serviceClass = new Map<string, number>();
  for (const svc of body.services) {
    const edges = serviceEdges(body, svc.name);
    const key = `${svc.policy ?? ''}|${edges.map((e) => e.name).join(',')}`;
    let idx = classIndex.get(key);
    if (idx === undefined) {
      const t = tries.get(svc.policy)!;
      idx = classes.length;
      classes.push({ key, policy: t.policy, edges, trie: freezeClass(t, edges, locations) });
      classIndex.set(key, idx);
    }
    serviceClass.set(svc.name, idx);
  }
  return {
    classes,
    serviceClass,
    publicResolvers: resolverTrie(),
    locations,
    stats: {
      blocks: classes.reduce((n, c) => n + c.trie.nodes.length / 2 + 1, 0),
      buildMs: Math.round(performance.now() - started),
    },
  };
}

function sharedCopy(a: Int32Array): Int32Array {
  const s = new Int32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

/**
 * The same table with its tries in SharedArrayBuffers: posting it to worker threads shares the
 * (large) tries instead of copying them, so N answering threads cost one set of tables.
 */
export function shareSteering(table: SteeringTable): SteeringTable {
  const share = (t: LookupTrie): LookupTrie => ({
    nodes: sharedCopy(t.nodes),
    parents: sharedCopy(t.parents),
    root4: t.root4,
    root6: t.root6,
  });
  return {
    ...table,
    classes: table.classes.map((c) => ({ ...c, trie: share(c.trie) })),
    publicResolvers: share(table.publicResolvers),
  };
}
