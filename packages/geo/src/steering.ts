import type { SnapshotBody, SnapshotEdge } from '@catchment/core';
import { movedPercent } from '@catchment/core/edge-rules';
import type { GeoDb, GeoInfo } from './geodb.ts';
import { type Family, parseNetwork } from './ip.ts';
import { type ClassPins, classPins, countryPin } from './pins.ts';
import {
  chooseEdge,
  headroomRps,
  type PreparedPolicy,
  preparePolicy,
  saltCodes,
  saltedUnitHash,
  shiftTargets,
  shiftUnitLength,
  unitPrefixHash,
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
  /** Operator pins, looked up before `trie` (country pins are already in it). */
  pins: ClassPins;
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
  // Every network splits at most the leaves on its path: about two builder nodes per node of
  // the databases' own trees.
  const capacity = 2 * (geo.location.info.nodeCount + (geo.asnDb?.info.nodeCount ?? 0)) + 4096;
  for (const policy of policies) {
    const v4 = new BuilderTrie(capacity);
    const v6 = new BuilderTrie(capacity);
    out.set(policy.name, { policy, v4, v6, asns });
    base[4].push(v4);
    base[6].push(v6);
  }
  // forEachLocation gives one object per data record: its id is looked up by identity, and
  // records with the same facts (many, in a City database) share an id through locationKey.
  const byRecord = new Map<GeoInfo, number>();
  let last: GeoInfo | undefined;
  let lastId = -1;
  for (const family of [4, 6] as const) {
    const tries = base[family];
    geo.forEachLocation(family, (bytes, length, g) => {
      // Neighbouring networks often share their record.
      let id = g === last ? lastId : byRecord.get(g);
      if (id === undefined) {
        const k = locationKey(g);
        id = locIds.get(k);
        if (id === undefined) {
          id = locations.length;
          locations.push(g);
          locIds.set(k, id);
        }
        byRecord.set(g, id);
      }
      last = g;
      lastId = id;
      for (let i = 0; i < tries.length; i++) tries[i]!.insert(bytes, length, FACT_LOC, id);
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
  geo.releaseRecords();
  for (const t of out.values()) {
    t.policy.cidrRules.forEach((rule, i) => {
      (rule.network.family === 4 ? t.v4 : t.v6).insert(rule.network.bytes, rule.network.length, FACT_RULE, i);
    });
  }
  return out;
}

/**
 * Per policy: the shape of the builder tries with, at each leaf, the id of its (location, ASN,
 * rule) triple. Geo-only, so cached across snapshots: the per-snapshot work is one edge choice
 * per distinct triple, then re-freezing only the subtrees that hold a triple whose answer
 * changed. One Int32 per node is all that is kept (the builders hold five plus growth slack:
 * with a full-size City database that was most of the server's memory).
 */
interface PolicyIndex {
  policy: PreparedPolicy;
  asns: number[];
  keys: { loc: number; asn: number; rule: number }[];
  /**
   * Per family, per builder node: >= 0 an inner node whose children are `left` and `left + 1`
   * (BuilderTrie allocates them in pairs, after their parent: children have larger numbers);
   * < 0 a leaf whose key id is ~value.
   */
  fam: Record<4 | 6, { size: number; left: Int32Array; dirty: Uint32Array }>;
}

/** A (location, ASN, rule) triple as one number (ids are below 2^20, 2^24 and 2^8; -1 = none). */
function tripleKey(loc: number, asn: number, rule: number): number {
  if (loc >= 0xfffff || asn >= 0xffffff || rule >= 0xff)
    throw new Error('steering: too many distinct locations, ASNs or rules');
  return ((loc + 1) * 0x1000000 + (asn + 1)) * 0x100 + (rule + 1);
}

function indexPolicy(t: PolicyTries): PolicyIndex {
  const keyIds = new Map<number, number>();
  const keys: PolicyIndex['keys'] = [];
  const fam = {} as PolicyIndex['fam'];
  // Most leaves have a location and neither ASN nor rule: those triples' ids by location, in a
  // typed array (a Map lookup per leaf was a fifth of the first build).
  const locOnly = new Int32Array(0x10000).fill(-1);
  let byLoc = locOnly;
  for (const family of [4, 6] as const) {
    const b = family === 4 ? t.v4 : t.v6;
    const left = b.left.slice(0, b.size);
    const right = b.right;
    const facts = b.facts;
    for (let n = 0; n < b.size; n++) {
      const l = left[n]!;
      if (l !== -1) {
        if (right[n] !== l + 1 || l <= n) throw new Error('builder trie: unexpected node order');
        continue;
      }
      const loc = facts[n * 3 + FACT_LOC]!;
      const asn = facts[n * 3 + FACT_ASN]!;
      const rule = facts[n * 3 + FACT_RULE]!;
      const plain = asn === -1 && rule === -1 && loc >= 0;
      let id: number | undefined;
      if (plain) {
        if (loc >= byLoc.length) {
          const grown = new Int32Array(Math.max(loc + 1, byLoc.length * 2)).fill(-1);
          grown.set(byLoc);
          byLoc = grown;
        }
        id = byLoc[loc]! >= 0 ? byLoc[loc] : undefined;
      } else id = keyIds.get(tripleKey(loc, asn, rule));
      if (id === undefined) {
        id = keys.length;
        keys.push({ loc, asn, rule });
        if (plain) byLoc[loc] = id;
        else keyIds.set(tripleKey(loc, asn, rule), id);
      }
      left[n] = ~id;
    }
    // `dirty`: a bit per node, scratch of each re-freeze, kept (a new one per swap fragmented the heap).
    fam[family] = { size: b.size, left, dirty: new Uint32Array((b.size >> 5) + 1) };
  }
  return { policy: t.policy, asns: t.asns, keys, fam };
}

/** What one class's last frozen trie was built from, to re-freeze only what changed. */
interface ClassState {
  trie: LookupTrie;
  /** Per key: chosen edge index (-1 fallback). */
  choice: Int32Array;
  /** Per key: 1 when a country pin chose it (a DNS shift does not move it). */
  pinned: Uint8Array;
  /** Per class edge: what a shift of that edge depends on ('' when not shifted). */
  shiftSig: string[];
}

/**
 * The first node written of the subtree rooted at `v`. Subtrees are written in post-order
 * (children, then their parent), so a subtree is the contiguous range [first, v]; deriving its
 * start instead of recording it saves an Int32 per builder node and class.
 */
function firstNode(nodes: Int32Array, v: number): number {
  let x = v;
  for (;;) {
    const l = nodes[x * 2]!;
    if (l >= 0) {
      x = l;
      continue;
    }
    const r = nodes[x * 2 + 1]!;
    if (r < 0) return x;
    x = r;
  }
}

function shiftSignature(edges: SnapshotEdge[], e: SnapshotEdge): string {
  const moved = movedPercent(e);
  if (moved <= 0) return '';
  const targets = shiftTargets(edges, e).map((t) => `${edges.indexOf(t)}:${headroomRps(t)}`);
  return `${moved}|${targets.join(',')}`;
}

function freezeClass(
  index: PolicyIndex,
  edges: SnapshotEdge[],
  locations: GeoInfo[],
  prev: ClassState | undefined,
  pins: ClassPins,
): ClassState {
  const asns = index.asns;
  const path = new Uint8Array(16);
  const choice = new Int32Array(index.keys.length);
  const pinned = new Uint8Array(index.keys.length);
  index.keys.forEach((k, i) => {
    const byPin = countryPin(pins, k.loc >= 0 ? locations[k.loc]!.country : undefined);
    if (byPin !== undefined) {
      choice[i] = byPin;
      pinned[i] = 1;
      return;
    }
    choice[i] = chooseEdge(edges, index.policy, {
      geo: k.loc >= 0 ? locations[k.loc] : undefined,
      asn: k.asn >= 0 ? asns[k.asn] : undefined,
      cidrRule: k.rule >= 0 ? index.policy.cidrRules[k.rule] : undefined,
    }).edge;
  });
  const shiftSig = edges.map((e) => shiftSignature(edges, e));
  const changedKey = (k: number): boolean => {
    if (!prev) return true;
    const e = choice[k]!;
    return prev.choice[k] !== e || (e >= 0 && prev.shiftSig[e] !== shiftSig[e]);
  };
  if (prev && !index.keys.some((_, k) => changedKey(k))) return { ...prev, choice, pinned, shiftSig };
  // Sized from the last table (a shift can add some blocks) or, first, from the builder tries.
  const prevSize = prev ? prev.trie.parents.length : 0;
  const writer = new TrieWriter(prev ? prevSize + (prevSize >> 3) + 1024 : index.fam[4].size + index.fam[6].size);

  const setBit = (depth: number, bit: number) => {
    const i = depth >> 3;
    const m = 0x80 >> (depth & 7);
    path[i] = bit ? path[i]! | m : path[i]! & ~m;
  };
  const mergeable = (v: number) => (v & MISS) === 0;
  const join = (l: number, r: number): number => (l < 0 && l === r && mergeable(~l) ? l : writer.node(l, r));

  // isShifted + pickShiftTarget with the salts' codes and the unit's prefix hash computed once.
  const shiftSalt = edges.map((e) => saltCodes(`shift:${e.name}`));
  // Per edge: the share of its blocks moved (core movedPercent: DNS shift and watermarks).
  const moved = edges.map(movedPercent);
  const targetSalt = edges.map((e) => saltCodes(`target:${e.name}`));
  const targetsOf = new Map<number, { index: number[]; headroom: number[] }>();
  const shiftedValue = (edge: number, unitLength: number): number => {
    const from = edges[edge]!;
    const prefix = unitPrefixHash(path, unitLength);
    const percent = moved[edge]!;
    if (percent < 100 && !(saltedUnitHash(prefix, shiftSalt[edge]!) / 4294967296 < percent / 100)) {
      return edge + 1;
    }
    let targets = targetsOf.get(edge);
    if (!targets) {
      const list = shiftTargets(edges, from);
      targets = { index: list.map((e) => edges.indexOf(e)), headroom: list.map(headroomRps) };
      targetsOf.set(edge, targets);
    }
    let best = -1;
    let bestScore = Number.POSITIVE_INFINITY;
    for (let i = 0; i < targets.index.length; i++) {
      const ti = targets.index[i]!;
      const u = (saltedUnitHash(prefix, targetSalt[ti]!) + 0.5) / 4294967296;
      const score = -Math.log(u) / targets.headroom[i]!;
      if (score < bestScore) {
        bestScore = score;
        best = ti;
      }
    }
    return best >= 0 ? best + 1 : edge + 1;
  };
  // A shifted block: the value of each of its (at most 16) units, then joined in post-order
  // (left, right, parent) so the nodes come out as a recursive split would write them.
  const units = new Int32Array(16);
  const fold = (lo: number, n: number): number => {
    if (n === 1) return units[lo]!;
    const half = n >> 1;
    const l = fold(lo, half);
    return join(l, fold(lo + half, half));
  };
  const split = (edge: number, depth: number, unitLength: number): number => {
    const k = unitLength - depth;
    if (k === 0) return ~shiftedValue(edge, unitLength);
    const n = 1 << k;
    for (let j = 0; j < n; j++) {
      for (let b = 0; b < k; b++) setBit(depth + b, (j >> (k - 1 - b)) & 1);
      units[j] = ~shiftedValue(edge, unitLength);
    }
    for (let b = 0; b < k; b++) setBit(depth + b, 0);
    return fold(0, n);
  };

  const freezeFamily = (family: 4 | 6, prevRoot: number) => {
    const f = index.fam[family];
    const left = f.left;
    // Dirty = the subtree holds a leaf whose answer changed; everything else is copied as is.
    // Children come after their parent, so one backward pass settles every node.
    const dirty = f.dirty;
    if (prev) {
      const changed = new Uint8Array(index.keys.length);
      for (let k = 0; k < changed.length; k++) changed[k] = changedKey(k) ? 1 : 0;
      dirty.fill(0);
      for (let n = f.size - 1; n >= 0; n--) {
        const l = left[n]!;
        const d =
          l < 0 ? changed[~l]! : ((dirty[l >> 5]! >>> (l & 31)) | (dirty[(l + 1) >> 5]! >>> ((l + 1) & 31))) & 1;
        if (d) dirty[n >> 5]! |= 1 << (n & 31);
      }
    }
    const prevNodes = prev?.trie.nodes;
    // A clean subtree's frozen form is what the previous trie holds at the same path: `at` walks
    // that trie alongside (a node there, or the leaf that already covers this path). A subtree in
    // the previous trie is the contiguous range [firstNode, root] (post-order), copied with its
    // indices moved. Walking the old trie costs nothing per builder node to remember.
    const copy = (at: number): number => {
      if (at < 0) return at;
      const s = firstNode(prevNodes!, at);
      const off = writer.size - s;
      for (let j = s; j <= at; j++) {
        const l = prevNodes![j * 2]!;
        const r = prevNodes![j * 2 + 1]!;
        writer.node(l >= 0 ? l + off : l, r >= 0 ? r + off : r);
      }
      return at + off;
    };
    const freeze = (node: number, depth: number, at: number): number => {
      if (prevNodes && ((dirty[node >> 5]! >>> (node & 31)) & 1) === 0) return copy(at);
      if (left[node]! < 0) {
        const k = ~left[node]!;
        const edge = choice[k]!;
        if (edge >= 0 && moved[edge]! > 0 && !pinned[k]) return split(edge, depth, shiftUnitLength(family, depth));
        const key = index.keys[k]!;
        // A database miss keeps the database's own block (10/8 stays /8): never widened, never /0.
        const miss = key.loc === -1 && key.rule === -1 ? MISS : 0;
        return ~((edge + 1) | miss);
      }
      setBit(depth, 0);
      const l = freeze(left[node]!, depth + 1, at >= 0 ? prevNodes![at * 2]! : at);
      setBit(depth, 1);
      const r = freeze(left[node]! + 1, depth + 1, at >= 0 ? prevNodes![at * 2 + 1]! : at);
      setBit(depth, 0);
      return join(l, r);
    };
    path.fill(0);
    const r = freeze(0, 0, prevRoot);
    return r >= 0 ? r : writer.node(r, r);
  };
  const root4 = freezeFamily(4, prev ? prev.trie.root4 : -1);
  const root6 = freezeFamily(6, prev ? prev.trie.root6 : -1);
  return { trie: writer.finish(root4, root6), choice, pinned, shiftSig };
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

/**
 * Builds steering tables snapshot after snapshot, reusing what did not change: the geo tries
 * (keyed on the GeoIP database version and the policies) and, per class, every subtree whose
 * answers are unchanged. The result is identical to a fresh `buildSteering`, node for node.
 */
export class SteeringBuilder {
  #geo: WeakRef<GeoDb> | undefined;
  #geoKey = '';
  #locations: GeoInfo[] = [];
  #indexes = new Map<string | null, PolicyIndex>();
  #classes = new Map<string, ClassState>();

  build(body: SnapshotBody, geo: GeoDb): SteeringTable {
    const started = performance.now();
    const policyNames = [...new Set(body.services.map((s) => s.policy))];
    const geoKey = `${geo.version}|${JSON.stringify(policyNames.map((n) => [n, body.policies.find((p) => p.name === n) ?? null]))}`;
    if (this.#geo?.deref() !== geo || this.#geoKey !== geoKey) {
      const policies = policyNames.map((n) => preparePolicy(body, n));
      this.#locations = [];
      const tries = buildGeoTries(geo, policies, this.#locations);
      this.#indexes = new Map([...tries].map(([name, t]) => [name, indexPolicy(t)]));
      this.#classes = new Map();
      this.#geo = new WeakRef(geo);
      this.#geoKey = geoKey;
    }
    const locations = this.#locations;
    const classes: SteeringClass[] = [];
    const classIndex = new Map<string, number>();
    const serviceClass = new Map<string, number>();
    const states = new Map<string, ClassState>();
    for (const svc of body.services) {
      const edges = serviceEdges(body, svc.name);
      const pins = classPins(body, svc.name, edges);
      const key = `${svc.policy ?? ''}|${edges.map((e) => e.name).join(',')}|${pins.key}`;
      let idx = classIndex.get(key);
      if (idx === undefined) {
        const index = this.#indexes.get(svc.policy)!;
        let state: ClassState;
        try {
          state = freezeClass(index, edges, locations, this.#classes.get(key), pins);
        } catch (err) {
          // The previous state may be half updated: the next build starts from scratch.
          this.#classes = new Map();
          throw err;
        }
        states.set(key, state);
        idx = classes.length;
        classes.push({ key, policy: index.policy, edges, trie: state.trie, pins });
        classIndex.set(key, idx);
      }
      serviceClass.set(svc.name, idx);
    }
    this.#classes = states;
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
}

/** A fresh build (nothing reused). */
export function buildSteering(body: SnapshotBody, geo: GeoDb): SteeringTable {
  return new SteeringBuilder().build(body, geo);
}

function sharedCopy(a: Int32Array): Int32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = new Int32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

/**
 * The table as worker threads receive it: tries in SharedArrayBuffers (TrieWriter already builds
 * them there, so this copies nothing; posting shares them instead of cloning one table per
 * thread) and without `locations`, which only explain (main thread) reads: with a City database
 * they are ~100 k objects that structured clone would otherwise copy into every worker.
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
    classes: table.classes.map((c) => ({
      ...c,
      trie: share(c.trie),
      pins: { ...c.pins, trie: c.pins.trie ? share(c.pins.trie) : null },
    })),
    publicResolvers: share(table.publicResolvers),
    locations: [],
  };
}
