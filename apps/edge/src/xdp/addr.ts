import ipaddr from 'ipaddr.js';

/**
 * Addresses as the data plane keys them: 16 bytes for both families, IPv4 as
 * ::ffff:a.b.c.d, written as four big-endian 32-bit words (`__be32 addr[4]`).
 */
export type Family = 4 | 6;

/** Whether text is one IPv4 (dotted quad) or IPv6 address. */
export function isAddr(text: string): boolean {
  return ipaddr.isValid(text) && (ipaddr.IPv4.isValidFourPartDecimal(text) || text.includes(':'));
}

/** Whether text is a CIDR with no host bits set. */
export function isCidr(text: string): boolean {
  try {
    const [a, len] = ipaddr.parseCIDR(text);
    const net =
      a.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
    return net.toString() === a.toString() && isAddr(text.slice(0, text.indexOf('/'))) && len >= 0;
  } catch {
    return false;
  }
}

export function addrFamily(text: string): Family {
  return ipaddr.parse(text).kind() === 'ipv4' ? 4 : 6;
}

export function addrBytes(text: string): Buffer {
  const parsed = ipaddr.parse(text);
  if (parsed.kind() === 'ipv4') return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...parsed.toByteArray()]);
  return Buffer.from(parsed.toByteArray());
}

export function addrWords(text: string): number[] {
  const b = addrBytes(text);
  return [0, 4, 8, 12].map((i) => b.readUInt32BE(i));
}

export function wordsToText(words: number[]): string {
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt32BE(w >>> 0, i * 4));
  const isV4 = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (isV4) return [...b.subarray(12)].join('.');
  return ipaddr.fromByteArray([...b]).toString();
}

/** LPM key of a CIDR in the 16-byte space (IPv4 prefix lengths grow by 96). */
export function cidrKey(cidr: string): { prefixlen: number; addr: number[] } {
  const [a, len] = ipaddr.parseCIDR(cidr);
  const text = a.toString();
  return { prefixlen: a.kind() === 'ipv4' ? len + 96 : len, addr: addrWords(text) };
}
