/**
 * The two transits of the traffic lab and their routing policy, written as BIRD 2 filters:
 * what a transit prefers (local preference: customers over peers; then the shorter AS path; a
 * customer's backup link below its primary one: transit A by local preference, transit B by a
 * higher MED, which only counts between paths of equal length) and its documented community catalogue,
 * acted on in the import filters of its customer sessions:
 *   <asn>:2001..2003    prepend the customer's AS 1..3 times (this transit's choice and what it passes on)
 *   <asn>:70, (<asn>, 70, *)   lower the local preference to 70, below every peer route
 *   <asn>:<peer asn>    do not export the route to that neighbour
 * Transit A (AS 64500) is the European one, transit B (AS 64501) the American one; they peer
 * with each other and pass on only their customers' and their own client networks (no transit
 * for the peer).
 */
export interface TransitSpec {
  /** The snapshot's transit name. */
  name: 'transit-a' | 'transit-b';
  asn: number;
  /** Local preference of a customer's primary link, of a backup link and of peer routes. */
  pref: { primary: number; backup: number; peer: number };
  /** MED given to a customer's backup link (compared after the AS path length: a prepend beats it). */
  backupMed?: number;
}

export const TRANSITS: readonly TransitSpec[] = [
  { name: 'transit-a', asn: 64500, pref: { primary: 200, backup: 150, peer: 100 } },
  // B ranks all its customers alike: the customer's backup link is the one with the higher MED.
  { name: 'transit-b', asn: 64501, pref: { primary: 300, backup: 300, peer: 110 }, backupMed: 100 },
];

/** Lowered local preference of the catalogue's "lower" community: below either transit's peer routes. */
export const LOWERED_PREF = 70;

/** The community catalogue of a transit, as the configuration's intents name it. */
export function catalogueIntents(t: TransitSpec, peerAsn: number): Record<string, string[]> {
  return {
    'prepend-1x': [`${t.asn}:2001`],
    'prepend-2x': [`${t.asn}:2002`],
    'prepend-3x': [`${t.asn}:2003`],
    'lower-local-pref': [`${t.asn}:70`],
    [`no-export-to-${peerAsn}`]: [`${t.asn}:${peerAsn}`],
  };
}

/** The customer's address blocks (the anycast and unicast space), nothing longer than a /24 or a /48. */
const CUSTOMER_SPACE = { 4: '198.18.0.0/15{15,24}', 6: '2001:db8:100::/40{40,48}' } as const;

/**
 * The import filter for one customer session (`from_<session>`; one per family, the IPv6
 * session's filter checks the IPv6 space): prefix filter, local preference, the catalogue.
 */
export function customerImport(
  t: TransitSpec,
  session: string,
  backup: boolean,
  originAsn: number,
  family: 4 | 6 = 4,
): string {
  const pref = backup ? t.pref.backup : t.pref.primary;
  return [
    `filter from_${session} {`,
    `  if ! (net ~ [ ${CUSTOMER_SPACE[family]} ]) then reject;`,
    `  bgp_local_pref = ${pref};`,
    ...(backup && t.backupMed !== undefined ? [`  bgp_med = ${t.backupMed};`] : []),
    `  if (${t.asn}, 2001) ~ bgp_community then bgp_path.prepend(${originAsn});`,
    `  if (${t.asn}, 2002) ~ bgp_community then { bgp_path.prepend(${originAsn}); bgp_path.prepend(${originAsn}); }`,
    `  if (${t.asn}, 2003) ~ bgp_community then { bgp_path.prepend(${originAsn}); bgp_path.prepend(${originAsn}); bgp_path.prepend(${originAsn}); }`,
    `  if (${t.asn}, 70) ~ bgp_community then bgp_local_pref = ${LOWERED_PREF};`,
    `  if bgp_large_community ~ [(${t.asn}, 70, *)] then bgp_local_pref = ${LOWERED_PREF};`,
    '  accept;',
    '}',
  ].join('\n');
}

/** What a transit passes to its peer: its customers' routes (minus no-export), its own networks. */
export function peerFilters(t: TransitSpec, peerAsn: number): string {
  return [
    'filter from_peer {',
    `  bgp_local_pref = ${t.pref.peer};`,
    '  accept;',
    '}',
    'filter to_peer {',
    `  if (${t.asn}, ${peerAsn}) ~ bgp_community then reject;`,
    '  if source = RTS_DEVICE || source = RTS_STATIC then accept;',
    '  if proto ~ "cust_*" then accept;',
    '  reject;',
    '}',
  ].join('\n');
}
