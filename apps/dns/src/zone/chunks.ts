import { CLASS_IN } from '../wire/constants.ts';
import { encodeName } from '../wire/names.ts';
import type { Chunk } from './types.ts';

// Prebuilt record sections: the bytes of each record after its owner, and owners that are
// either the question (0xC00C), a suffix of it (patched per query) or a full name.

export const EMPTY: Chunk = { bytes: Buffer.alloc(0), count: 0, patches: [] };

/** A record after its owner: type, class, TTL, length and rdata. */
export function rrTail(type: number, ttl: number, rdata: Buffer): Buffer {
  const b = Buffer.alloc(10 + rdata.length);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(CLASS_IN, 2);
  b.writeUInt32BE(ttl >>> 0, 4);
  b.writeUInt16BE(rdata.length, 8);
  rdata.copy(b, 10);
  return b;
}

/** Records owned by the question name: owner 0xC00C. */
export function answerChunk(type: number, ttl: number, rdatas: Buffer[]): Chunk {
  const parts = rdatas.map((r) => Buffer.concat([Buffer.from([0xc0, 0x0c]), rrTail(type, ttl, r)]));
  const owners: number[] = [];
  let off = 0;
  for (const p of parts) {
    owners.push(off);
    off += p.length;
  }
  return { bytes: Buffer.concat(parts), count: parts.length, patches: [], owners };
}

/** Records owned by a suffix of the question name: owner pointer patched per query. */
export function suffixChunk(type: number, ttl: number, rdatas: Buffer[]): Chunk {
  const patches: number[] = [];
  const parts: Buffer[] = [];
  let off = 0;
  for (const r of rdatas) {
    patches.push(off);
    const p = Buffer.concat([Buffer.from([0xc0, 0x0c]), rrTail(type, ttl, r)]);
    parts.push(p);
    off += p.length;
  }
  return { bytes: Buffer.concat(parts), count: parts.length, patches };
}

/** Records with their own full owner name (glue). */
export function ownedChunk(records: { owner: string; type: number; ttl: number; rdata: Buffer }[]): Chunk {
  const parts = records.map((r) => Buffer.concat([encodeName(r.owner), rrTail(r.type, r.ttl, r.rdata)]));
  return { bytes: Buffer.concat(parts), count: parts.length, patches: [] };
}
