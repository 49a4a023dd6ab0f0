/**
 * DNSSEC record data on the wire (RFC 4034): RRSIG signing input and NSEC type bitmaps.
 * Names handed in are canonical wire names (lower case, uncompressed): the zone compiler
 * encodes every name that way, so record data is already in canonical form.
 */
export const TYPE_DS = 43;
export const TYPE_RRSIG = 46;
export const TYPE_NSEC = 47;
export const TYPE_DNSKEY = 48;
export const TYPE_CDS = 59;
export const TYPE_CDNSKEY = 60;
/** RFC 9824: the pseudo-type in a compact denial's bitmap that says "this name does not exist". */
export const TYPE_NXNAME = 128;
const CLASS_IN = 1;

/** Labels of a wire name, the root and a leading `*` not counted (RFC 4034 §3.1.3). */
export function labelCount(wire: Uint8Array): number {
  let n = 0;
  for (let i = 0; wire[i] !== 0; i += wire[i]! + 1) n++;
  if (wire[0] === 1 && wire[1] === 0x2a) n--;
  return n;
}

/** RRSIG RDATA up to the signature: type covered ... signer's name (RFC 4034 §3.1). */
export function rrsigHead(
  type: number,
  algorithm: number,
  labels: number,
  ttl: number,
  expiration: number,
  inception: number,
  tag: number,
  signer: Buffer,
): Buffer {
  const b = Buffer.alloc(18 + signer.length);
  b.writeUInt16BE(type, 0);
  b[2] = algorithm;
  b[3] = labels;
  b.writeUInt32BE(ttl >>> 0, 4);
  b.writeUInt32BE(expiration >>> 0, 8);
  b.writeUInt32BE(inception >>> 0, 12);
  b.writeUInt16BE(tag, 16);
  signer.copy(b, 18);
  return b;
}

/** The data an RRSIG signs: its head, then the RRset in canonical order (RFC 4034 §3.1.8.1, §6.3). */
export function signingInput(head: Buffer, owner: Buffer, type: number, ttl: number, rdatas: Buffer[]): Buffer {
  const sorted = [...rdatas].sort(Buffer.compare).filter((r, i, a) => i === 0 || !r.equals(a[i - 1]!));
  const parts: Buffer[] = [head];
  for (const r of sorted) {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(type, 0);
    fixed.writeUInt16BE(CLASS_IN, 2);
    fixed.writeUInt32BE(ttl >>> 0, 4);
    fixed.writeUInt16BE(r.length, 8);
    parts.push(owner, fixed, r);
  }
  return Buffer.concat(parts);
}

/** NSEC type bitmap (RFC 4034 §4.1.2): windows of up to 32 bytes. */
export function typeBitmap(types: Iterable<number>): Buffer {
  const sorted = [...new Set(types)].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let i = 0;
  while (i < sorted.length) {
    const win = sorted[i]! >> 8;
    const bits = Buffer.alloc(32);
    let len = 0;
    for (; i < sorted.length && sorted[i]! >> 8 === win; i++) {
      const low = sorted[i]! & 0xff;
      bits[low >> 3] = bits[low >> 3]! | (0x80 >> (low & 7));
      len = (low >> 3) + 1;
    }
    parts.push(Buffer.from([win, len]), bits.subarray(0, len));
  }
  return Buffer.concat(parts);
}

/**
 * NSEC RDATA of a compact denial (RFC 9824 §3): the next name is the immediate successor
 * `\000.owner`, so the record covers no other name (no zone walking). A name already at the
 * length limit has no such successor; it then names itself.
 */
export function compactNsecRdata(owner: Uint8Array, types: Iterable<number>): Buffer {
  const next = owner.length <= 253 ? Buffer.concat([Buffer.from([1, 0]), owner]) : Buffer.from(owner);
  return Buffer.concat([next, typeBitmap(types)]);
}
