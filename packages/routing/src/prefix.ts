import ipaddr from 'ipaddr.js';

/**
 * IPv4 and IPv6 prefix math on top of ipaddr.js: parsing to a canonical form,
 * containment, covering supernets, ordering. Addresses are kept as bigint so the
 * arithmetic is the same for both families.
 */
export type Family = 4 | 6;

export interface Prefix {
  readonly family: Family;
  /** Network address as an unsigned integer of 32 or 128 bits. */
  readonly network: bigint;
  readonly length: number;
  /** Canonical text: `198.18.1.0/24`, `2001:db8:101::/48`. */
  readonly text: string;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

export function familyBits(family: Family): number {
  return BITS[family];
}

function toBigInt(bytes: number[]): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function fromBigInt(n: bigint, family: Family): string {
  const count = family === 4 ? 4 : 16;
  const bytes: number[] = new Array(count);
  let v = n;
  for (let i = count - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

function mask(family: Family, length: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return length === 0 ? 0n : (all >> (bits - BigInt(length))) << (bits - BigInt(length));
}

function make(family: Family, network: bigint, length: number): Prefix {
  return { family, network, length, text: `${fromBigInt(network, family)}/${length}` };
}

/** Why `text` is not a prefix (address/length, host bits zero), or undefined when it is. */
export function prefixProblem(text: string, opts: { allowHostBits?: boolean } = {}): string | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return 'must be a prefix such as 192.0.2.0/24';
  const addr = text.slice(0, slash);
  const len = text.slice(slash + 1);
  const isV4 = ipaddr.IPv4.isValidFourPartDecimal(addr);
  if (!isV4 && !(addr.includes(':') && ipaddr.IPv6.isValid(addr))) return `"${addr}" is not an IPv4 or IPv6 address`;
  if (!/^\d{1,3}$/.test(len)) return `"${len}" is not a prefix length`;
  const family: Family = isV4 ? 4 : 6;
  const length = Number(len);
  if (length > BITS[family]) return `prefix length /${length} is longer than /${BITS[family]}`;
  if (!opts.allowHostBits) {
    const n = toBigInt(ipaddr.parse(addr).toByteArray());
    if ((n & mask(family, length)) !== n)
      return `host bits are set: the network is ${make(family, n & mask(family, length), length).text}`;
  }
  return undefined;
}

/** Parses a prefix; throws on bad syntax or host bits (unless `allowHostBits`, which masks them). */
export function parsePrefix(text: string, opts: { allowHostBits?: boolean } = {}): Prefix {
  const problem = prefixProblem(text, opts);
  if (problem) throw new Error(`invalid prefix "${text}": ${problem}`);
  const slash = text.indexOf('/');
  const addr = ipaddr.parse(text.slice(0, slash));
  const family: Family = addr.kind() === 'ipv4' ? 4 : 6;
  const length = Number(text.slice(slash + 1));
  return make(family, toBigInt(addr.toByteArray()) & mask(family, length), length);
}

/** The host prefix (/32 or /128) of one address. */
export function addressPrefix(address: string): Prefix {
  const addr = ipaddr.parse(address);
  const mapped = addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress();
  const a = mapped ? (addr as ipaddr.IPv6).toIPv4Address() : addr;
  const family: Family = a.kind() === 'ipv4' ? 4 : 6;
  return make(family, toBigInt(a.toByteArray()), BITS[family]);
}

/** Canonical text of a prefix (lower case, compressed IPv6). */
export function canonicalPrefix(text: string): string {
  return parsePrefix(text).text;
}

/** True when `inner` lies inside `outer` (same family, equal or longer length). */
export function contains(outer: Prefix, inner: Prefix): boolean {
  return (
    outer.family === inner.family &&
    inner.length >= outer.length &&
    (inner.network & mask(outer.family, outer.length)) === outer.network
  );
}

/** True when `outer` strictly covers `inner` (a real supernet, not the same prefix). */
export function covers(outer: Prefix, inner: Prefix): boolean {
  return contains(outer, inner) && outer.length < inner.length;
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  return contains(a, b) || contains(b, a);
}

export function samePrefix(a: Prefix, b: Prefix): boolean {
  return a.family === b.family && a.length === b.length && a.network === b.network;
}

/** The supernet of `p` at `length` (shorter or equal). */
export function supernet(p: Prefix, length: number): Prefix {
  if (length > p.length || length < 0) throw new Error(`/${length} is not a supernet length of ${p.text}`);
  return make(p.family, p.network & mask(p.family, length), length);
}

/** Number of addresses in the prefix. */
export function size(p: Prefix): bigint {
  return 1n << BigInt(BITS[p.family] - p.length);
}

export function firstAddress(p: Prefix): string {
  return fromBigInt(p.network, p.family);
}

export function lastAddress(p: Prefix): string {
  return fromBigInt(p.network | (size(p) - 1n), p.family);
}

/** Subnets of `p` at `length`, in order; bounded by `limit` so a /8 into /32s cannot run away. */
export function subnets(p: Prefix, length: number, limit = 65536): Prefix[] {
  if (length < p.length || length > BITS[p.family]) throw new Error(`/${length} is not a subnet length of ${p.text}`);
  const count = 1n << BigInt(length - p.length);
  if (count > BigInt(limit)) throw new Error(`${p.text} has ${count} subnets of /${length}, more than ${limit}`);
  const step = 1n << BigInt(BITS[p.family] - length);
  const out: Prefix[] = [];
  for (let i = 0n; i < count; i++) out.push(make(p.family, p.network + i * step, length));
  return out;
}

/** IPv4 before IPv6, then by network address, then shorter first: a stable order for rendering. */
export function comparePrefixes(a: Prefix, b: Prefix): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.network !== b.network) return a.network < b.network ? -1 : 1;
  return a.length - b.length;
}

/** The most specific prefix in `candidates` that covers or equals `p` (longest match), if any. */
export function longestMatch<T extends { prefix: Prefix }>(candidates: T[], p: Prefix): T | undefined {
  let best: T | undefined;
  for (const c of candidates) {
    if (contains(c.prefix, p) && (!best || c.prefix.length > best.prefix.length)) best = c;
  }
  return best;
}
