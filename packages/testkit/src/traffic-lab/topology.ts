/**
 * The traffic lab's shape: client regions, transits and edges, and the addresses that make
 * them a small internet, dual-stack: every region has IPv4 /24 and IPv6 /48 client blocks,
 * every edge an IPv4 /24 and an IPv6 /48 (the demo configuration's), the large edges both
 * supernets; BGP carries each family on its own sessions.
 */
export interface LabRegion {
  name: string;
  /** ISO country the GeoIP database places the region's blocks in. */
  country: string;
  continent: string;
  lat: number;
  lon: number;
  transit: 'transit-a' | 'transit-b';
  /** The region's blocks are 45.<octet>.<b>.0/24: public-looking (GeoDNS ignores private ranges), they exist only inside the lab. */
  octet: number;
  blocks: number;
  /** IPv6 client blocks: 2a0c:<octet>:<b>::/48 for b < blocks6. */
  blocks6: number;
}

export interface LabEdgeSpec {
  name: string;
  /** Large edges announce the anycast supernet and serve every address in it. */
  big: boolean;
  /** Index used in link addresses (100.64+k.<i>.0/30). */
  i: number;
  /** The transits it buys from; the first is its primary uplink (XDP, default route). */
  uplinks: ('transit-a' | 'transit-b')[];
  unicast: string;
  address: string;
  /** The edge's IPv6 /48 and its service address there. */
  unicast6: string;
  address6: string;
  dsr: string;
}

export const REGIONS: readonly LabRegion[] = [
  {
    name: 'de',
    country: 'DE',
    continent: 'EU',
    lat: 51,
    lon: 9,
    transit: 'transit-a',
    octet: 72,
    blocks: 32,
    blocks6: 4,
  },
  {
    name: 'gb',
    country: 'GB',
    continent: 'EU',
    lat: 52,
    lon: -1,
    transit: 'transit-a',
    octet: 73,
    blocks: 16,
    blocks6: 4,
  },
  {
    name: 'us',
    country: 'US',
    continent: 'NA',
    lat: 39,
    lon: -77,
    transit: 'transit-b',
    octet: 74,
    blocks: 16,
    blocks6: 4,
  },
  {
    name: 'br',
    country: 'BR',
    continent: 'SA',
    lat: -23,
    lon: -46,
    transit: 'transit-b',
    octet: 75,
    blocks: 16,
    blocks6: 4,
  },
];

export const LAB_EDGES: readonly LabEdgeSpec[] = [
  {
    name: 'fra',
    big: true,
    i: 1,
    uplinks: ['transit-a', 'transit-b'],
    unicast: '198.18.1.0/24',
    address: '198.18.1.10',
    unicast6: '2001:db8:101::/48',
    address6: '2001:db8:101::10',
    dsr: '198.19.0.11',
  },
  {
    name: 'iad',
    big: true,
    i: 2,
    uplinks: ['transit-b', 'transit-a'],
    unicast: '198.18.2.0/24',
    address: '198.18.2.10',
    unicast6: '2001:db8:102::/48',
    address6: '2001:db8:102::10',
    dsr: '198.19.0.12',
  },
  {
    name: 'lhr',
    big: false,
    i: 4,
    uplinks: ['transit-a'],
    unicast: '198.18.4.0/24',
    address: '198.18.4.10',
    unicast6: '2001:db8:104::/48',
    address6: '2001:db8:104::10',
    dsr: '198.19.0.14',
  },
  {
    name: 'gru',
    big: false,
    i: 5,
    uplinks: ['transit-b'],
    unicast: '198.18.5.0/24',
    address: '198.18.5.10',
    unicast6: '2001:db8:105::/48',
    address6: '2001:db8:105::10',
    dsr: '198.19.0.15',
  },
];

export const SUPERNET = '198.18.0.0/20';
export const ANYCAST = '198.18.0.1';
export const SUPERNET6 = '2001:db8:100::/40';
export const ANYCAST6 = '2001:db8:100::1';
export const EDGE_ASN = 65010;
export const RESOLVER = '100.99.0.2';
export const RESOLVER6 = 'fd00:99::2';

/** The client source addresses of a region, one per /24 block. */
export function regionBlocks(r: LabRegion): string[] {
  return Array.from({ length: r.blocks }, (_, b) => `45.${r.octet}.${b}.2`);
}

/** The IPv6 client source addresses of a region, one per /48 block. */
export function regionBlocks6(r: LabRegion): string[] {
  return Array.from({ length: r.blocks6 }, (_, b) => `2a0c:${r.octet}:${b}::2`);
}

/** The /24 a client address belongs to. */
export function blockOf(address: string): string {
  return `${address.split('.').slice(0, 3).join('.')}.0/24`;
}

export function transitIndex(name: 'transit-a' | 'transit-b'): number {
  return name === 'transit-a' ? 0 : 1;
}
