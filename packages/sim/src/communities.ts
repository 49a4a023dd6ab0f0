import { parseCommunity, WELL_KNOWN_COMMUNITIES } from '@catchment/routing';

/**
 * What one community value asks of the transit that receives it, as a transit's community
 * catalogue defines (the scenario's `routing.transits.<name>.communities`).
 */
export interface CommunityEffect {
  /** Prepend the customer's AS this many times: what the transit prefers and passes on. */
  prepend?: number;
  /** The route's local preference inside the transit (not passed on). */
  localPref?: number;
  /** Do not pass the route to any peer transit. */
  noExport?: boolean;
  /** Do not pass the route to these peer transits. */
  noExportTo?: string[];
  /** Do not carry the route at all: it is not visible through this transit. */
  reject?: boolean;
}

/** The effect of every community on one route at one transit. */
export interface RouteEffect {
  prepend: number;
  localPref: number | undefined;
  reject: boolean;
  /** Peer transit names the route is not passed to; '*' for all of them. */
  noExportTo: ReadonlySet<string> | '*';
}

/** Local preference of the catalogue's "lower" value: below peer routes (the traffic lab's 70). */
export const LOWERED_LOCAL_PREF = 70;

/**
 * The catalogue a transit has unless the scenario says otherwise: the traffic lab's BIRD
 * filters (packages/testkit traffic-lab/policy.ts) and the well-known communities.
 *   <asn>:2001..2003            prepend 1..3 times
 *   <asn>:70, <asn>:70:*        local preference 70
 *   <asn>:<peer asn>            not passed to the peer transit of that AS
 *   NO_EXPORT, NO_PEER          not passed to any peer (RFC 1997, RFC 3765)
 *   NO_ADVERTISE                not carried at all (RFC 1997: advertised to no one)
 *   GRACEFUL_SHUTDOWN           local preference 0 (RFC 8326)
 * `asn` undefined: a transit with no catalogue of its own (only the well-known values act).
 */
export function defaultEffect(
  text: string,
  asn: number | undefined,
  peerByAsn: ReadonlyMap<number, string>,
): CommunityEffect | undefined {
  const c = parseCommunity(text);
  if (c.kind === 'large') return c.global === asn && c.local1 === 70 ? { localPref: LOWERED_LOCAL_PREF } : undefined;
  if (c.asn === 0xffff) {
    if (c.value === WELL_KNOWN_COMMUNITIES.NO_EXPORT || c.value === WELL_KNOWN_COMMUNITIES.NO_PEER)
      return { noExport: true };
    if (c.value === WELL_KNOWN_COMMUNITIES.NO_ADVERTISE) return { reject: true };
    if (c.value === WELL_KNOWN_COMMUNITIES.GRACEFUL_SHUTDOWN) return { localPref: 0 };
    return undefined;
  }
  if (c.asn !== asn) return undefined;
  if (c.value >= 2001 && c.value <= 2003) return { prepend: c.value - 2000 };
  if (c.value === 70) return { localPref: LOWERED_LOCAL_PREF };
  const peer = peerByAsn.get(c.value);
  return peer === undefined ? undefined : { noExportTo: [peer] };
}

/**
 * Combines the effects of a route's communities: prepends add up (the lab's filter applies
 * each), the lowest local preference asked for wins, any reject or no-export holds.
 */
export function combineEffects(effects: (CommunityEffect | undefined)[]): RouteEffect {
  let prepend = 0;
  let localPref: number | undefined;
  let reject = false;
  let all = false;
  const to = new Set<string>();
  for (const e of effects) {
    if (!e) continue;
    prepend += e.prepend ?? 0;
    if (e.localPref !== undefined) localPref = localPref === undefined ? e.localPref : Math.min(localPref, e.localPref);
    reject ||= e.reject === true;
    all ||= e.noExport === true;
    for (const p of e.noExportTo ?? []) to.add(p);
  }
  return { prepend, localPref, reject, noExportTo: all ? '*' : to };
}
