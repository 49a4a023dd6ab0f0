/**
 * Response rate limiting per client block (IPv4 /24, IPv6 /56) and response kind, against
 * reflection abuse (the BIND/Knot RRL idea): a token bucket per key; over the limit, every
 * `slip`-th reply goes out truncated (a real client retries over TCP, a spoofed victim gets a
 * tiny packet) and the rest are dropped. UDP only.
 */
export interface RrlOptions {
  /** Replies per second per client block and kind. */
  responsesPerSecond: number;
  /** 0: drop all over the limit; n: every n-th becomes a truncated reply. */
  slip: number;
  /** Bound on tracked keys; the table is cleared when it is full. */
  maxEntries?: number;
}

export type RrlAction = 0 | 1 | 2;
export const RRL_SEND: RrlAction = 0;
export const RRL_DROP: RrlAction = 1;
export const RRL_SLIP: RrlAction = 2;

export class Rrl {
  readonly #rate: number;
  readonly #slip: number;
  readonly #max: number;
  readonly #tokens = new Map<number, number>();
  readonly #stamp = new Map<number, number>();
  #slipCount = 0;

  constructor(opts: RrlOptions) {
    this.#rate = opts.responsesPerSecond;
    this.#slip = opts.slip;
    this.#max = opts.maxEntries ?? 100_000;
  }

  /** kind: 0 answer, 1 NXDOMAIN/NODATA, 2 error. */
  check(family: 4 | 6, bytes: Uint8Array, kind: number, nowMs: number): RrlAction {
    let key: number;
    if (family === 4) key = ((bytes[0]! << 16) | (bytes[1]! << 8) | bytes[2]!) * 8 + kind;
    else {
      let h = 0x811c9dc5;
      for (let i = 0; i < 7; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
      key = ((h >>> 0) + 2 ** 32) * 8 + kind;
    }
    const last = this.#stamp.get(key);
    let tokens: number;
    if (last === undefined) {
      if (this.#stamp.size >= this.#max) {
        this.#stamp.clear();
        this.#tokens.clear();
      }
      tokens = this.#rate;
    } else {
      tokens = Math.min(this.#rate, this.#tokens.get(key)! + ((nowMs - last) / 1000) * this.#rate);
    }
    this.#stamp.set(key, nowMs);
    if (tokens >= 1) {
      this.#tokens.set(key, tokens - 1);
      return RRL_SEND;
    }
    this.#tokens.set(key, tokens);
    if (this.#slip > 0 && ++this.#slipCount % this.#slip === 0) return RRL_SLIP;
    return RRL_DROP;
  }
}
