import type { SnapshotBody } from '@catchment/core';
import { type GeoDb, type LookupResult, leafEdge, lookupBits, type SteeringBuilder } from '@catchment/geo';
import { addrBytes, type Population } from './population.ts';

/**
 * The DNS answer of one snapshot for every cache entry, from the steering tables the DNS
 * server answers from (packages/geo SteeringBuilder: geo lookups, policy, shifts, pins,
 * scope merging), looked up in the order apps/dns respond.ts `#steer` uses: with ECS the
 * pin trie then the class trie on the client subnet; without, the pin trie on the
 * resolver's address, then the public-resolver list (anycast fallback), then the class trie.
 */
export interface Answers {
  /** Per entry: sim edge index answered, or -1 for the anycast fallback. */
  edge: Int16Array;
  /** Per entry: ECS scope of the answer (0 without ECS). */
  scope: Uint8Array;
}

/** Snapshot edge name → the simulator's edge index (the body's order). */
export function edgeIndex(body: SnapshotBody): Map<string, number> {
  return new Map(body.edges.map((e, i) => [e.name, i]));
}

export function answerAll(
  builder: SteeringBuilder,
  body: SnapshotBody,
  geo: GeoDb,
  service: string,
  pop: Population,
): Answers {
  const table = builder.build(body, geo);
  const clsIdx = table.serviceClass.get(service);
  if (clsIdx === undefined) throw new Error(`service ${service} is not in the snapshot`);
  const cls = table.classes[clsIdx]!;
  const index = edgeIndex(body);
  const toSim = cls.edges.map((e) => index.get(e.name)!);
  const pins = cls.pins.trie;
  const out: LookupResult = { value: 0, length: 0, key: 0 };
  const bytes = new Uint8Array(4);
  const viaTrie = (addr: number): number => {
    addrBytes(addr, bytes);
    lookupBits(cls.trie, 4, bytes, 0, 4, out);
    const i = leafEdge(out.value);
    return i < 0 ? -1 : toSim[i]!;
  };
  const pinned = (addr: number): number | undefined => {
    if (!pins) return undefined;
    addrBytes(addr, bytes);
    lookupBits(pins, 4, bytes, 0, 4, out);
    return out.value > 0 ? toSim[out.value - 1]! : undefined;
  };
  // Without ECS every entry of a resolver gets the resolver's answer: one lookup per resolver.
  const byResolver = pop.resolvers.map((r) => {
    if (r.ecs) return 0;
    const p = pinned(r.addr);
    if (p !== undefined) return p;
    addrBytes(r.addr, bytes);
    lookupBits(table.publicResolvers, 4, bytes, 0, 4, out);
    if (out.value === 1) return -1;
    return viaTrie(r.addr);
  });
  const n = pop.entryBlock.length;
  const edge = new Int16Array(n);
  const scope = new Uint8Array(n);
  let lastBlock = -1;
  let lastEdge = 0;
  let lastScope = 0;
  for (let e = 0; e < n; e++) {
    const r = pop.entryResolver[e]!;
    if (!pop.resolvers[r]!.ecs) {
      edge[e] = byResolver[r]!;
      continue;
    }
    const b = pop.entryBlock[e]!;
    if (b !== lastBlock) {
      // ECS as Google sends it: the client's /24.
      const a = pop.blockAddr[b]!;
      let pinLength = 0;
      const p = pinned(a);
      if (pins) pinLength = out.length;
      lastEdge = p ?? viaTrie(a);
      lastScope = Math.min(24, Math.max(out.length, pinLength));
      lastBlock = b;
    }
    edge[e] = lastEdge;
    scope[e] = lastScope;
  }
  return { edge, scope };
}
