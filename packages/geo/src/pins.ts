import type { SnapshotBody, SnapshotEdge, SnapshotPin } from '@catchment/core';
import { type Address, parseNetwork } from './ip.ts';
import { BuilderTrie, FACT_LOC, type LookupTrie, TrieWriter } from './trie.ts';

/**
 * The pin resolver, first in the chain (gdnsd style): operator pins (safety rule 8) fix the
 * answer for a client prefix or a country to an edge, before policy rules, distance and DNS
 * shifts. One rule decides which pin holds for a client, here, for the answer tables and for
 * explain alike:
 *
 * - a CIDR pin beats a country pin; among CIDR pins the longest prefix wins;
 * - at equal specificity a pin for the service beats a pin for every service, then the newest;
 * - a pin holds while its edge is usable: an explicit operator drain or force-down of that edge,
 *   or the edge down or in maintenance, suspends the pin (the client gets the answer it would
 *   get without it) rather than answer with an edge that does not serve. Load does not: a pinned
 *   client stays on its edge whatever the utilisation, and DNS shifts (automation's or an
 *   operator's) never move it;
 * - a pin whose edge has no address for a service does not apply to that service.
 */
export interface ClassPins {
  /** What the pins of the class depend on ('' when none): part of the class key. */
  key: string;
  /**
   * CIDR pins as a lookup trie (leaf 0: not pinned, else class edge index + 1), null when the
   * class has none. Unpinned leaves are the widest blocks that hold no pin, so the ECS scope of
   * an unpinned answer is the longer of this leaf and the geo block (never wider than a pin).
   */
  trie: LookupTrie | null;
  /** Country → class edge index. */
  countries: Map<string, number>;
  /** The pins that apply to the class, in precedence order (weakest first). */
  applied: SnapshotPin[];
  /** Pins of the class's services whose edge does not serve now, with why. */
  suspended: { pin: SnapshotPin; why: string }[];
}

export const NO_PINS: ClassPins = { key: '', trie: null, countries: new Map(), applied: [], suspended: [] };

/** Weakest first: shorter prefix, every service before one service, older before newer. */
function precedence(a: SnapshotPin, b: SnapshotPin): number {
  const len = (p: SnapshotPin) => (p.cidr ? Number(p.cidr.slice(p.cidr.indexOf('/') + 1)) : -1);
  return len(a) - len(b) || Number(a.name !== null) - Number(b.name !== null) || a.action - b.action;
}

export function notServing(e: SnapshotEdge): string | undefined {
  return e.usable ? undefined : `edge ${e.name} does not serve (state ${e.state}, override ${e.override})`;
}

/** The pins of `service` with its class's edges (the edges that have an address for it). */
export function classPins(body: SnapshotBody, service: string, edges: SnapshotEdge[]): ClassPins {
  const pins = (body.pins ?? []).filter((p) => p.name === null || p.name === service);
  if (pins.length === 0) return NO_PINS;
  const index = new Map(edges.map((e, i) => [e.name, i]));
  const applied: SnapshotPin[] = [];
  const suspended: ClassPins['suspended'] = [];
  for (const p of [...pins].sort(precedence)) {
    const i = index.get(p.edge);
    if (i === undefined) continue;
    const why = notServing(edges[i]!);
    if (why) suspended.push({ pin: p, why });
    else applied.push(p);
  }
  const countries = new Map<string, number>();
  const b4 = new BuilderTrie();
  const b6 = new BuilderTrie();
  let cidrs = 0;
  for (const p of applied) {
    const edge = index.get(p.edge)!;
    if (p.country) countries.set(p.country, edge);
    const n = p.cidr ? parseNetwork(p.cidr) : undefined;
    if (!n) continue;
    // Weakest first: a longer (or stronger) pin inserted later overwrites its part of the block.
    (n.family === 4 ? b4 : b6).insert(n.bytes, n.length, FACT_LOC, edge + 1);
    cidrs++;
  }
  const key = applied.map((p) => `${p.action}:${index.get(p.edge)}`).join(',');
  return { key, trie: cidrs > 0 ? freezePins(b4, b6) : null, countries, applied, suspended };
}

/** Builder tries to a lookup trie, merging equal siblings (unset facts, -1, read as 0). */
function freezePins(b4: BuilderTrie, b6: BuilderTrie): LookupTrie {
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

/** The class edge index a country pin gives, if any. */
export function countryPin(pins: ClassPins, country: string | undefined): number | undefined {
  return country === undefined ? undefined : pins.countries.get(country);
}

function contains(cidr: string, addr: Address): boolean {
  const n = parseNetwork(cidr);
  if (!n || n.family !== addr.family) return false;
  for (let i = 0; i < n.length; i++) {
    const a = ((addr.bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
    const b = ((n.bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
    if (a !== b) return false;
  }
  return true;
}

/**
 * Explain's view (slow path): the pin that holds for this client, and the pins that would
 * have matched it but are suspended. Same precedence as the tables.
 */
export function pinFor(
  pins: ClassPins,
  addr: Address,
  country: string | undefined,
): { pin: SnapshotPin | undefined; suspended: { pin: SnapshotPin; why: string }[] } {
  const matches = (p: SnapshotPin) => (p.cidr ? contains(p.cidr, addr) : p.country !== null && p.country === country);
  const strongest = (list: SnapshotPin[]) => {
    const cidr = list.filter((p) => p.cidr && matches(p)).at(-1);
    return cidr ?? list.filter((p) => p.country && matches(p)).at(-1);
  };
  return { pin: strongest(pins.applied), suspended: pins.suspended.filter((s) => matches(s.pin)) };
}
