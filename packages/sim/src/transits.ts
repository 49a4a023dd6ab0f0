import { CatchmentError, type SnapshotBody } from '@catchment/core';
import { distanceKm } from '@catchment/geo';
import { type CommunityEffect, combineEffects, defaultEffect, type RouteEffect } from './communities.ts';
import type { Population } from './population.ts';
import type { TransitScenario } from './scenario.ts';

/** Local preference of a customer link and of a route learned from a peer, unless the scenario sets them. */
export const DEFAULT_LOCAL_PREF = { customer: 100, peer: 90 } as const;

/** How a transit ranks the routes an edge announces to it over their link. */
export interface Link {
  localPref: number;
  med: number;
}

export interface Transit {
  name: string;
  /** Per sim edge index: its link to this transit, or undefined when it does not buy from it. */
  links: (Link | undefined)[];
  /** Transit indices it exchanges customer routes with (both sides list each other). */
  peers: number[];
  peerLocalPref: number;
  /** The effect of a route's communities on this transit (memoised per set). */
  effect(communities: string[]): RouteEffect;
}

/**
 * Who reaches the edges through what: the transits with their customers (edges), peers and
 * community catalogues, and the client regions: a country's clients behind one transit, with
 * their share of the country's load. Built once per run from the first snapshot.
 */
export interface Topology {
  transits: Transit[];
  /** Regions of country c: regionStart[c] .. regionStart[c + 1] - 1, largest share first. */
  regionStart: Int32Array;
  regionCountry: Uint16Array;
  regionTransit: Uint16Array;
  regionShare: Float64Array;
  /** Great-circle km from country c to edge e at [c * edges + e]: the hot-potato distance. */
  km: Float64Array;
  edges: number;
}

/** The transit of a configuration without any: every edge and client, only the well-known communities act. */
const IMPLICIT = { name: '(internet)', asn: undefined } as const;

const invalid = (message: string) => new CatchmentError('SCENARIO_INVALID', message);

function transitOf(
  name: string,
  asn: number | undefined,
  model: TransitScenario | undefined,
  body: SnapshotBody,
  peerByAsn: Map<number, string>,
): Omit<Transit, 'peers'> & { peerNames: string[] | undefined } {
  const edgeNames = new Set(body.edges.map((e) => e.name));
  for (const e of Object.keys(model?.edges ?? {}))
    if (!edgeNames.has(e)) throw invalid(`routing.transits.${name}.edges: the configuration has no edge ${e}`);
  const links = body.edges.map((e): Link | undefined => {
    const l = model?.edges === undefined ? {} : model.edges[e.name];
    return l && { localPref: l.localPref ?? DEFAULT_LOCAL_PREF.customer, med: l.med ?? 0 };
  });
  const catalogue = new Map<string, CommunityEffect | undefined>(Object.entries(model?.communities ?? {}));
  const lookup = (text: string) => {
    if (!catalogue.has(text)) catalogue.set(text, defaultEffect(text, asn, peerByAsn));
    return catalogue.get(text);
  };
  const memo = new Map<string, RouteEffect>();
  return {
    name,
    links,
    peerNames: model?.peers,
    peerLocalPref: model?.peerLocalPref ?? DEFAULT_LOCAL_PREF.peer,
    effect(communities) {
      const key = communities.join(' ');
      let e = memo.get(key);
      if (!e) {
        e = combineEffects(communities.map(lookup));
        memo.set(key, e);
      }
      return e;
    },
  };
}

/** Per country, its transits and their shares: the scenario's weights, else every transit alike. */
function countryShares(code: string, names: string[], given: Record<string, number> | undefined): [number, number][] {
  if (!given) return names.map((_, t) => [t, 1 / names.length]);
  const total = Object.values(given).reduce((n, w) => n + w, 0);
  return Object.entries(given).map(([name, w]) => {
    const t = names.indexOf(name);
    if (t < 0) throw invalid(`routing.countries.${code}: the configuration has no transit ${name}`);
    return [t, w / total];
  });
}

export function buildTopology(
  body: SnapshotBody,
  countries: Population['countries'],
  model: { transits: Record<string, TransitScenario>; countryTransits: Record<string, Record<string, number>> },
): Topology {
  const configured = body.transits.length > 0 ? body.transits : [IMPLICIT];
  const names = configured.map((t) => t.name);
  for (const n of Object.keys(model.transits))
    if (!names.includes(n)) throw invalid(`routing.transits: the configuration has no transit ${n}`);
  const peerByAsn = new Map(body.transits.map((t) => [t.asn, t.name]));
  const built = configured.map((t) => transitOf(t.name, t.asn, model.transits[t.name], body, peerByAsn));
  const lists = (i: number) => built[i]!.peerNames ?? names.filter((_, j) => j !== i);
  for (const [i, t] of built.entries())
    for (const p of lists(i))
      if (!names.includes(p)) throw invalid(`routing.transits.${t.name}.peers: no transit ${p}`);
  const transits: Transit[] = built.map((t, i) => ({
    ...t,
    peers: names.flatMap((n, j) => (j !== i && lists(i).includes(n) && lists(j).includes(t.name) ? [j] : [])),
  }));

  const C = countries.length;
  const regionStart = new Int32Array(C + 1);
  const rows: [number, number, number][] = [];
  countries.forEach((c, ci) => {
    regionStart[ci] = rows.length;
    const shares = countryShares(c.code, names, model.countryTransits[c.code]).sort((x, y) => y[1] - x[1]);
    for (const [t, share] of shares) rows.push([ci, t, share]);
  });
  regionStart[C] = rows.length;
  const E = body.edges.length;
  const km = new Float64Array(C * E);
  countries.forEach((c, ci) => {
    body.edges.forEach((e, ei) => {
      km[ci * E + ei] = distanceKm(c.lat, c.lon, e.lat, e.lon);
    });
  });
  return {
    transits,
    regionStart,
    regionCountry: Uint16Array.from(rows, (r) => r[0]),
    regionTransit: Uint16Array.from(rows, (r) => r[1]),
    regionShare: Float64Array.from(rows, (r) => r[2]),
    km,
    edges: E,
  };
}
