import { closeSync, openSync, writeSync } from 'node:fs';
import { encodeValue } from '../packages/testkit/src/mmdb-writer.ts';

/**
 * An MMDB writer for millions of networks (MaxMind DB format 2.0,
 * https://maxmind.github.io/MaxMind-DB/): the search tree lives in two Int32Arrays instead of
 * one JS object per node (the test fixture writer's way, which needs GBs at this size), data
 * records are encoded once each, and the file is written piece by piece. 28-bit records and an
 * IPv6 tree with IPv4 at ::/96, as in MaxMind's City databases. Networks must not overlap.
 */
type Value = Parameters<typeof encodeValue>[0];

const RECORD_BITS = 28;

export class BigMmdbWriter {
  // Child slot: 0 = empty (the root is never a child), > 0 = node, < 0 = data record ~ref.
  #left = new Int32Array(1 << 20);
  #right = new Int32Array(1 << 20);
  #size = 1;
  #data: Buffer[] = [];
  #dataLen = 0;
  #refs = new Map<string, number>();
  networks = 0;

  /** Encodes a data record once; `key` identifies equal records. Returns its offset. */
  record(key: string, value: () => Value): number {
    let ref = this.#refs.get(key);
    if (ref === undefined) {
      const enc = encodeValue(value());
      ref = this.#dataLen;
      this.#data.push(enc);
      this.#dataLen += enc.length;
      this.#refs.set(key, ref);
    }
    return ref;
  }

  #node(): number {
    if (this.#size === this.#left.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.#left = grow(this.#left);
      this.#right = grow(this.#right);
    }
    return this.#size++;
  }

  /** Inserts a network given in the IPv6 space (IPv4: 12 zero bytes first, length + 96). */
  insert(bytes: Uint8Array, length: number, ref: number): void {
    let node = 0;
    for (let depth = 0; depth < length; depth++) {
      const bit = (bytes[depth >> 3]! >> (7 - (depth & 7))) & 1;
      const side = bit ? this.#right : this.#left;
      if (depth === length - 1) {
        if (side[node] !== 0) throw new Error(`network overlaps another (depth ${depth})`);
        side[node] = ~ref;
        break;
      }
      let next = side[node]!;
      if (next < 0) throw new Error(`network inside another (depth ${depth})`);
      if (next === 0) {
        next = this.#node();
        // #node may have replaced the arrays.
        (bit ? this.#right : this.#left)[node] = next;
      }
      node = next;
    }
    this.networks++;
  }

  get nodeCount(): number {
    return this.#size;
  }

  get dataBytes(): number {
    return this.#dataLen;
  }

  /** Writes tree, separator, data and metadata to `path`. */
  write(path: string, meta: { databaseType: string; description: string; buildEpoch: number }): void {
    const count = this.#size;
    if (count + 16 + this.#dataLen >= 2 ** RECORD_BITS) throw new Error('too large for 28-bit records');
    const value = (c: number) => (c === 0 ? count : c > 0 ? c : count + 16 + ~c);
    const fd = openSync(path, 'w');
    try {
      const chunkNodes = 1 << 16;
      const buf = Buffer.alloc(chunkNodes * 7);
      for (let start = 0; start < count; start += chunkNodes) {
        const end = Math.min(count, start + chunkNodes);
        for (let n = start; n < end; n++) {
          const l = value(this.#left[n]!);
          const r = value(this.#right[n]!);
          const o = (n - start) * 7;
          buf[o] = (l >>> 16) & 0xff;
          buf[o + 1] = (l >>> 8) & 0xff;
          buf[o + 2] = l & 0xff;
          buf[o + 3] = (((l >>> 24) & 0x0f) << 4) | ((r >>> 24) & 0x0f);
          buf[o + 4] = (r >>> 16) & 0xff;
          buf[o + 5] = (r >>> 8) & 0xff;
          buf[o + 6] = r & 0xff;
        }
        writeSync(fd, buf, 0, (end - start) * 7);
      }
      writeSync(fd, Buffer.alloc(16));
      for (const d of this.#data) writeSync(fd, d);
      writeSync(fd, Buffer.from([0xab, 0xcd, 0xef]));
      writeSync(fd, Buffer.from('MaxMind.com'));
      writeSync(
        fd,
        encodeValue({
          node_count: count,
          record_size: { uint16: RECORD_BITS },
          ip_version: { uint16: 6 },
          database_type: meta.databaseType,
          languages: ['de', 'en', 'es', 'fr', 'ja', 'pt-BR', 'ru', 'zh-CN'],
          binary_format_major_version: { uint16: 2 },
          binary_format_minor_version: { uint16: 0 },
          build_epoch: { uint64: meta.buildEpoch },
          description: { en: meta.description },
        }),
      );
    } finally {
      closeSync(fd);
    }
  }
}
