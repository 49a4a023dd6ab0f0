import ipaddr from 'ipaddr.js';

/**
 * Addresses as bytes: 4 for IPv4, 16 for IPv6. IPv4-mapped IPv6 (::ffff:a.b.c.d) is turned
 * into IPv4 here, once, so every lookup and every scope is computed in the IPv4 space.
 */
export type Family = 4 | 6;

export interface Address {
  family: Family;
  bytes: Uint8Array;
}

export interface Network extends Address {
  /** Prefix length in bits, in the family's own space (IPv4 /24, not ::ffff:0:0/120). */
  length: number;
}

export function maxLength(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** Parses an address; IPv4-mapped IPv6 becomes IPv4. Undefined for anything else. */
export function parseAddress(text: string): Address | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  if (!text.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  const parsed = ipaddr.parse(text);
  if (parsed.kind() === 'ipv4') return { family: 4, bytes: Uint8Array.from(parsed.toByteArray()) };
  return unmapAddress({ family: 6, bytes: Uint8Array.from(parsed.toByteArray()) });
}

/** ::ffff:a.b.c.d → a.b.c.d; other addresses are returned unchanged. */
export function unmapAddress(addr: Address): Address {
  if (addr.family !== 6) return addr;
  const b = addr.bytes;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return addr;
  if (b[10] !== 0xff || b[11] !== 0xff) return addr;
  return { family: 4, bytes: b.slice(12, 16) };
}

/** Bits of IPv6 before an IPv4-mapped address (::ffff:0:0/96). */
export const MAPPED_PREFIX_BITS = 96;

/** Whether a network's text is IPv4-mapped IPv6 (`::ffff:81.2.69.0/120`): parsed as IPv4. */
export function isMappedText(text: string, family: Family): boolean {
  return family === 4 && text.includes(':');
}

/**
 * The ECS scope of an answer (RFC 7871 §7.1.1), in the family of the request: the length of the
 * block that was looked up, plus the bits before the address looked up (96 for IPv4-mapped IPv6,
 * looked up as IPv4), never more than the request's source prefix. DNS replies and explain both
 * use this, so they cannot disagree.
 */
export function ecsScope(blockLength: number, sourcePrefix: number, mapped: boolean): number {
  return Math.min(blockLength + (mapped ? MAPPED_PREFIX_BITS : 0), sourcePrefix);
}

export function parseNetwork(text: string): Network | undefined {
  const slash = text.indexOf('/');
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!addr) return undefined;
  const max = maxLength(addr.family);
  let length = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText)) return undefined;
    length = Number(lenText);
    // A mapped ::ffff:a.b.c.d/120 is the IPv4 /24.
    if (isMappedText(text, addr.family)) length -= MAPPED_PREFIX_BITS;
    if (length < 0 || length > max) return undefined;
  }
  return { ...addr, bytes: maskBytes(addr.bytes, length), length };
}

/** Copy of bytes with every bit beyond `length` cleared. */
export function maskBytes(bytes: Uint8Array, length: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    out[i] = (out[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

export function bitAt(bytes: Uint8Array, index: number): number {
  return ((bytes[index >> 3] ?? 0) >> (7 - (index & 7))) & 1;
}

export function formatAddress(addr: Address): string {
  if (addr.family === 4) return Array.from(addr.bytes).join('.');
  return ipaddr.fromByteArray(Array.from(addr.bytes)).toString();
}

export function formatNetwork(net: Network): string {
  return `${formatAddress({ family: net.family, bytes: maskBytes(net.bytes, net.length) })}/${net.length}`;
}

export function networkContains(outer: Network, addr: Address): boolean {
  if (outer.family !== addr.family) return false;
  for (let i = 0; i < outer.length; i++) if (bitAt(outer.bytes, i) !== bitAt(addr.bytes, i)) return false;
  return true;
}
