import { randomInt } from 'node:crypto';

/**
 * TCP connection caps for the whole process. Every answering thread accepts on its own
 * SO_REUSEPORT socket, so counts kept per thread let N threads hold N times the documented caps
 * (2 workers: 40 per client and 4,000 in all against 20 and 2,000). The counts live in one
 * SharedArrayBuffer: a global total and per-client counts, updated with Atomics (add first, then
 * check and undo), so a cap is never exceeded even when threads accept at the same instant.
 *
 * Per-client counts sit in 65,536 buckets keyed by a hash of the address with a per-process
 * random seed: two clients that share a bucket share its cap (never more than the cap for
 * anyone), and the seed keeps an attacker from choosing addresses that collide with a victim's.
 * Each thread also keeps its own share of the counts, so that when a worker dies (its sockets
 * close without running its close handlers) the server can give its share back (reclaim).
 */
const BUCKETS = 1 << 16;
const SLICE = 1 + BUCKETS;
/** Int32 layout: [0] seed, then the global slice, then one slice per thread; slice: total, buckets. */
const HEADER = 1;

export interface TcpCapsShare {
  buffer: SharedArrayBuffer;
  thread: number;
}

export class TcpCaps {
  readonly #a: Int32Array;
  readonly #own: number;
  readonly #max: number;
  readonly #perClient: number;
  readonly #seed: number;

  /** The shared counters for `threads` answering threads. */
  static buffer(threads: number): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer((HEADER + SLICE * (1 + threads)) * 4);
    new Int32Array(buffer)[0] = randomInt(2 ** 31);
    return buffer;
  }

  /** Gives back the share of a thread that is gone (its connections closed with it). */
  static reclaim(buffer: SharedArrayBuffer, thread: number): void {
    const a = new Int32Array(buffer);
    const own = HEADER + SLICE * (1 + thread);
    for (let i = 0; i < SLICE; i++) {
      const n = Atomics.exchange(a, own + i, 0);
      if (n !== 0) Atomics.sub(a, HEADER + i, n);
    }
  }

  constructor(share: TcpCapsShare, maxConnections: number, maxPerClient: number) {
    this.#a = new Int32Array(share.buffer);
    this.#own = HEADER + SLICE * (1 + share.thread);
    this.#max = maxConnections;
    this.#perClient = maxPerClient;
    this.#seed = this.#a[0]!;
  }

  /** Takes a place for a connection from `address`: its bucket, or -1 when a cap is reached. */
  acquire(address: Uint8Array): number {
    const a = this.#a;
    if (Atomics.add(a, HEADER, 1) >= this.#max) {
      Atomics.sub(a, HEADER, 1);
      return -1;
    }
    const b = 1 + this.#bucket(address);
    if (Atomics.add(a, HEADER + b, 1) >= this.#perClient) {
      Atomics.sub(a, HEADER + b, 1);
      Atomics.sub(a, HEADER, 1);
      return -1;
    }
    Atomics.add(a, this.#own, 1);
    Atomics.add(a, this.#own + b, 1);
    return b;
  }

  release(bucket: number): void {
    const a = this.#a;
    Atomics.sub(a, this.#own + bucket, 1);
    Atomics.sub(a, this.#own, 1);
    Atomics.sub(a, HEADER + bucket, 1);
    Atomics.sub(a, HEADER, 1);
  }

  /** Open connections in the whole process. */
  get total(): number {
    return Atomics.load(this.#a, HEADER);
  }

  /** FNV-1a over the address bytes, seeded. */
  #bucket(address: Uint8Array): number {
    let h = 0x811c9dc5 ^ this.#seed;
    for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address[i]!, 0x01000193);
    h ^= h >>> 16;
    return (h >>> 0) & (BUCKETS - 1);
  }
}
