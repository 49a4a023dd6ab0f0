import type { SnapshotAnnouncement, SnapshotBody } from '@catchment/core';
import { parseNetwork } from '@catchment/geo';
import { bestRoutes, nearest } from './bgp.ts';
import type { Topology } from './transits.ts';

/**
 * Which edge receives a client region's packets for an address (a region: a country's clients
 * behind one transit, transits.ts): at the region's transit, the longest announced prefix
 * covering the address that has a route there, and of its routes the best as BGP ranks them
 * (bgp.ts): local preference, AS path length, MED, then the nearest announcer (hot potato). The
 * scenario's routing overrides, per (country, prefix), name the announcer outright.
 */
export interface RouteTable {
  /** [answer + 1][region] → receiving sim edge index, -1 when no route covers it there. */
  receive: Int16Array;
  regions: number;
}

interface Prefix4 {
  base: number;
  length: number;
  text: string;
}

function v4Prefix(text: string): Prefix4 | undefined {
  const n = parseNetwork(text);
  if (n?.family !== 4) return undefined;
  const b = n.bytes;
  return { base: ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0, length: n.length, text };
}

const covers = (p: Prefix4, a: number) => p.length === 0 || a >>> (32 - p.length) === p.base >>> (32 - p.length);

function addr4(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const p = v4Prefix(text);
  return p && p.length === 32 ? p.base : undefined;
}

/** The IPv4 address each answer sends clients to: per edge its service address, then the anycast one. */
export function answerAddresses(body: SnapshotBody, service: string): (number | undefined)[] {
  const svc = body.services.find((s) => s.name === service);
  if (!svc) throw new Error(`service ${service} is not in the snapshot`);
  const byEdge = body.edges.map((e) => addr4(svc.addresses.find((a) => a.edge === e.name)?.v4[0]));
  return [addr4(svc.anycast.v4), ...byEdge];
}

export function routeTable(
  body: SnapshotBody,
  service: string,
  topo: Topology,
  overrides: { country: string; prefix: string; edge: string }[],
  countries: { code: string }[],
  down?: Uint8Array,
): RouteTable {
  const edgeIdx = new Map(body.edges.map((e, i) => [e.name, i]));
  const announced = new Map<string, { prefix: Prefix4; from: SnapshotAnnouncement[] }>();
  for (const a of body.announcements) {
    if (a.state !== 'announced' || !edgeIdx.has(a.edge)) continue;
    const p = v4Prefix(a.prefix);
    if (!p) continue;
    const entry = announced.get(a.prefix) ?? { prefix: p, from: [] };
    entry.from.push(a);
    announced.set(a.prefix, entry);
  }
  const prefixes = [...announced.values()]
    .sort((x, y) => y.prefix.length - x.prefix.length)
    .map((p) => ({
      ...p,
      edges: p.from.map((a) => edgeIdx.get(a.edge)!),
      best: bestRoutes(topo, p.from, edgeIdx, down),
    }));
  const addrs = answerAddresses(body, service);
  const R = topo.regionShare.length;
  const E = topo.edges;
  const receive = new Int16Array(addrs.length * R).fill(-1);
  const override = new Map(overrides.map((o) => [`${o.country}|${o.prefix}`, edgeIdx.get(o.edge)]));
  addrs.forEach((addr, a) => {
    if (addr === undefined) return;
    const covering = prefixes.filter((p) => covers(p.prefix, addr));
    for (let r = 0; r < R; r++) {
      const t = topo.regionTransit[r]!;
      const c = topo.regionCountry[r]!;
      // The longest prefix this region's transit has a route for: a withdrawn or rejected /24 falls to its supernet.
      const p = covering.find((x) => x.best[t]!.length > 0);
      if (!p) continue;
      const forced = override.get(`${countries[c]!.code}|${p.prefix.text}`);
      if (forced !== undefined && p.edges.includes(forced)) {
        receive[a * R + r] = forced;
        continue;
      }
      receive[a * R + r] = nearest(p.best[t]!, topo.km, c * E);
    }
  });
  return { receive, regions: R };
}

/** What the route table reads from a snapshot: equal keys, equal tables (load-only publications reuse it). */
export function routeKey(body: SnapshotBody): string {
  return JSON.stringify(
    body.announcements.map((a) => [a.edge, a.prefix, a.state, a.communities, a.transitCommunities]),
  );
}
