/**
 * Walks the search tree of an MMDB file (MaxMind DB format 2.0, record sizes 24/28/32) and
 * yields every network that has data, with the record's data pointer. The maxmind reader
 * answers single lookups; merging networks into answer blocks needs all of them.
 */
export interface TreeInfo {
  nodeCount: number;
  recordSize: number;
  ipVersion: number;
}

/**
 * Called per network with data: its bits (4 bytes for IPv4, 16 for IPv6; a buffer reused for
 * every call, so copy it to keep it), its prefix length and the record value (> nodeCount;
 * identical values share one data record). Nothing is allocated per network: a full-size City
 * database has millions.
 */
export type TreeVisit = (bytes: Uint8Array, length: number, pointer: number) => void;

function readRecord(db: Buffer, info: TreeInfo, node: number, bit: number): number {
  const size = info.recordSize;
  if (size === 24) {
    const o = node * 6 + bit * 3;
    return (db[o]! << 16) | (db[o + 1]! << 8) | db[o + 2]!;
  }
  if (size === 28) {
    const o = node * 7;
    if (bit === 0) return ((db[o + 3]! & 0xf0) << 20) | (db[o]! << 16) | (db[o + 1]! << 8) | db[o + 2]!;
    return ((db[o + 3]! & 0x0f) << 24) | (db[o + 4]! << 16) | (db[o + 5]! << 8) | db[o + 6]!;
  }
  const o = node * 8 + bit * 4;
  return db.readUInt32BE(o);
}

/** The node where the IPv4 space starts: 96 zero bits down an IPv6 tree. */
export function ipv4Start(db: Buffer, info: TreeInfo): number {
  if (info.ipVersion === 4) return 0;
  let node = 0;
  for (let i = 0; i < 96 && node < info.nodeCount; i++) node = readRecord(db, info, node, 0);
  return node;
}

/**
 * Leaves of one family. For IPv6 the IPv4 subtree (::/96) and the aliases that point back
 * into it (::ffff:0:0/96, 2002::/16 in MaxMind's files) are skipped: IPv4 is walked on its own.
 */
export function walkTree(db: Buffer, info: TreeInfo, family: 4 | 6, visit: TreeVisit): void {
  const v4start = ipv4Start(db, info);
  const max = family === 4 ? 32 : 128;
  const bytes = new Uint8Array(family === 4 ? 4 : 16);
  const start = family === 4 ? v4start : 0;
  if (family === 4 && info.ipVersion === 6 && v4start >= info.nodeCount) {
    if (v4start > info.nodeCount) visit(bytes, 0, v4start);
    return;
  }
  if (family === 6 && info.ipVersion === 4) return;
  const walk = (node: number, depth: number): void => {
    for (let bit = 0; bit < 2; bit++) {
      const idx = depth >> 3;
      const mask = 0x80 >> (depth & 7);
      if (bit) bytes[idx] = bytes[idx]! | mask;
      else bytes[idx] = bytes[idx]! & ~mask;
      const next = readRecord(db, info, node, bit);
      if (next === info.nodeCount) continue;
      if (next > info.nodeCount) {
        visit(bytes, depth + 1, next);
      } else if (depth + 1 < max && !(family === 6 && next === v4start)) {
        walk(next, depth + 1);
      }
      if (bit) bytes[idx] = bytes[idx]! & ~mask;
    }
  };
  if (start < info.nodeCount) walk(start, 0);
}
