import type { SnapshotBody } from '@catchment/core';
import { distanceKm, parseNetwork } from '@catchment/geo';
import type { Population } from './population.ts';

/**
 * Which edge receives a client's packets for an address, from the snapshot's announcements:
 * the longest announced prefix that covers the address, and among its announcers the one the
 * scenario's routing overrides name for the client's country, else the nearest (hot-potato
 * routing towards the closest announcement, the usual first approximation of an anycast
 * catchment). BGP policy (local preference, AS path, communities) is not modelled yet.
 */
export interface RouteTable {
  /** [answer + 1][country] → receiving sim edge index, -1 when nothing announced covers it. */
  receive: Int16Array;
  countries: number;
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
  pop: Population,
  overrides: { country: string; prefix: string; edge: string }[],
): RouteTable {
  const edgeIdx = new Map(body.edges.map((e, i) => [e.name, i]));
  const announced = new Map<string, { prefix: Prefix4; edges: number[] }>();
  for (const a of body.announcements) {
    if (a.state !== 'announced') continue;
    const p = v4Prefix(a.prefix);
    const e = edgeIdx.get(a.edge);
    if (!p || e === undefined) continue;
    const entry = announced.get(a.prefix) ?? { prefix: p, edges: [] };
    entry.edges.push(e);
    announced.set(a.prefix, entry);
  }
  const prefixes = [...announced.values()].sort((x, y) => y.prefix.length - x.prefix.length);
  const addrs = answerAddresses(body, service);
  const C = pop.countries.length;
  const receive = new Int16Array(addrs.length * C).fill(-1);
  const override = new Map(overrides.map((o) => [`${o.country}|${o.prefix}`, edgeIdx.get(o.edge)]));
  addrs.forEach((addr, a) => {
    if (addr === undefined) return;
    const best = prefixes.find((p) => covers(p.prefix, addr));
    if (!best) return;
    pop.countries.forEach((c, ci) => {
      const forced = override.get(`${c.code}|${best.prefix.text}`);
      if (forced !== undefined && best.edges.includes(forced)) {
        receive[a * C + ci] = forced;
        return;
      }
      let pick = -1;
      let bestKm = Number.POSITIVE_INFINITY;
      for (const e of best.edges) {
        const edge = body.edges[e]!;
        const km = distanceKm(c.lat, c.lon, edge.lat, edge.lon);
        if (km < bestKm) {
          bestKm = km;
          pick = e;
        }
      }
      receive[a * C + ci] = pick;
    });
  });
  return { receive, countries: C };
}
