/** Requests per consumer per window for snapshot distribution (default 300 per minute). */
export interface DistributionLimitOptions {
  max: number;
  timeWindowMs: number;
}

export const DEFAULT_DISTRIBUTION_LIMIT: DistributionLimitOptions = { max: 300, timeWindowMs: 60_000 };

/** Idle consumers forgotten when the table grows past this many (bounded memory). */
const MAX_CONSUMERS = 10_000;

export interface Consumer {
  tokens: number;
  at: number;
  /** Newest version this consumer was sent (200), or told it has (since). */
  has: number;
  /** Over-limit requests of this consumer held until a newer version (at most one). */
  held: number;
}

/**
 * Snapshot distribution's own limit, apart from the operator limit: a token bucket per
 * consumer (token and client address), `max` deep, refilled over `timeWindowMs`. A long-poll
 * consumer uses a couple of requests a minute, plus one per publication. Over the limit a
 * consumer is never refused a version it has not been sent: the route serves it, or holds
 * one request until there is one (or the bucket refills); only more requests get 429.
 */
export class DistributionLimiter {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #consumers = new Map<string, Consumer>();

  constructor(opts: DistributionLimitOptions = DEFAULT_DISTRIBUTION_LIMIT) {
    this.#capacity = Math.max(1, opts.max);
    this.#perMs = this.#capacity / Math.max(1, opts.timeWindowMs);
  }

  /** The consumer's state, with its bucket refilled to now. */
  consumer(key: string, now = Date.now()): Consumer {
    let c = this.#consumers.get(key);
    if (!c) {
      if (this.#consumers.size >= MAX_CONSUMERS) this.#forgetIdle(now);
      c = { tokens: this.#capacity, at: now, has: 0, held: 0 };
      this.#consumers.set(key, c);
    } else {
      c.tokens = Math.min(this.#capacity, c.tokens + (now - c.at) * this.#perMs);
      c.at = now;
    }
    return c;
  }

  /** Takes one request from the consumer's bucket; false when it is empty. */
  take(c: Consumer): boolean {
    if (c.tokens < 1) return false;
    c.tokens -= 1;
    return true;
  }

  /** Gives back one request taken (a reservation that was not needed). */
  giveBack(c: Consumer): void {
    c.tokens = Math.min(this.#capacity, c.tokens + 1);
  }

  /** Milliseconds until the consumer's next request is within its limit. */
  retryAfterMs(c: Consumer): number {
    return c.tokens >= 1 ? 0 : Math.ceil((1 - c.tokens) / this.#perMs);
  }

  get size(): number {
    return this.#consumers.size;
  }

  #forgetIdle(now: number): void {
    for (const [key, c] of this.#consumers) {
      const tokens = Math.min(this.#capacity, c.tokens + (now - c.at) * this.#perMs);
      if (c.held === 0 && tokens >= this.#capacity) this.#consumers.delete(key);
    }
    // Everyone busy (a flood of addresses): start over rather than grow without bound.
    if (this.#consumers.size >= MAX_CONSUMERS) this.#consumers.clear();
  }
}
