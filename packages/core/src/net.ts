import ipaddr from 'ipaddr.js';

/**
 * Minimal address and CIDR parsing shared by every package (config validation,
 * snapshot compile). Prefix arithmetic beyond this lives in @catchment/routing.
 */
export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** Canonical text, e.g. `198.18.1.0/24` or `2001:db8:101::/48`. */
  text: string;
  bytes: number[];
  length: number;
}

export function isIp(text: string): boolean {
  return ipaddr.isValid(text) && (ipaddr.IPv4.isValidFourPartDecimal(text) || text.includes(':'));
}

export function ipFamily(text: string): Family | undefined {
  if (!isIp(text)) return undefined;
  return ipaddr.parse(text).kind() === 'ipv4' ? 4 : 6;
}

/** Why a CIDR is not acceptable, or undefined when it is (host bits must be zero). */
export function cidrProblem(text: string): string | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return 'must be a CIDR such as 192.0.2.0/24';
  const addr = text.slice(0, slash);
  const len = text.slice(slash + 1);
  if (!isIp(addr)) return `"${addr}" is not an IPv4 or IPv6 address`;
  if (!/^\d{1,3}$/.test(len)) return `"${len}" is not a prefix length`;
  const parsed = ipaddr.parse(addr);
  const max = parsed.kind() === 'ipv4' ? 32 : 128;
  const n = Number(len);
  if (n > max) return `prefix length /${n} is longer than /${max}`;
  const network = ipaddr.parse(
    parsed.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(text).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(text).toString(),
  );
  if (network.toString() !== parsed.toString()) {
    return `host bits are set: the network is ${network.toString()}/${n}`;
  }
  return undefined;
}

export function parseCidr(text: string): Cidr {
  const problem = cidrProblem(text);
  if (problem) throw new Error(`invalid CIDR "${text}": ${problem}`);
  const [addr, len] = ipaddr.parseCIDR(text);
  const family: Family = addr.kind() === 'ipv4' ? 4 : 6;
  return { family, text: `${addr.toString()}/${len}`, bytes: addr.toByteArray(), length: len };
}

/** True when `inner` lies inside `outer` (same family, equal or longer prefix). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.length < outer.length) return false;
  let bits = outer.length;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((outer.bytes[i] ?? 0) & mask) !== ((inner.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** Canonical text of an address (IPv6 compressed, lower case). */
export function canonicalIp(text: string): string {
  return ipaddr.parse(text).toString();
}
