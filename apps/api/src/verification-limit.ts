import { CatchmentError } from '@catchment/core';

/** scrypt checks of token secrets: how many run at once, and how many may wait for a turn. */
export interface VerificationLimitOptions {
  concurrency: number;
  queue: number;
  /** Longest wait for a turn, ms (default 5000); a waiter past it gets 503 AUTH_BUSY. */
  maxWaitMs?: number;
}

/**
 * One check at a time (about 50 ms of one core each), 64 waiting, none longer than 5 s: whatever
 * arrives, scrypt never uses more than one core, and every request is answered within seconds
 * (also when the machine is so busy that each check takes much longer).
 */
export const DEFAULT_VERIFICATION_LIMIT: VerificationLimitOptions = { concurrency: 1, queue: 64, maxWaitMs: 5000 };

/** Retry-After of 503 AUTH_BUSY answers, seconds. */
export const AUTH_BUSY_RETRY_SECONDS = 1;

/**
 * Bounds the cost of verifying secrets (issue 14, defect 8): at most `concurrency` checks run,
 * at most `queue` wait in order; past that a request is refused at once with 503 AUTH_BUSY
 * rather than queued without bound. Tokens verified before are remembered by the verifier and
 * never come here, so a flood of wrong secrets delays only tokens not seen yet.
 */
export class VerificationGate {
  readonly #concurrency: number;
  readonly #queue: number;
  readonly #maxWaitMs: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(opts: VerificationLimitOptions = DEFAULT_VERIFICATION_LIMIT) {
    this.#concurrency = Math.max(1, opts.concurrency);
    this.#queue = Math.max(0, opts.queue);
    this.#maxWaitMs = Math.max(1, opts.maxWaitMs ?? 5000);
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  async run<T>(check: () => Promise<T>): Promise<T> {
    if (this.#running < this.#concurrency) this.#running++;
    else if (this.#waiting.length >= this.#queue || !(await this.#turn())) {
      throw new CatchmentError(
        'AUTH_BUSY',
        `too many token verifications at once; retry in ${AUTH_BUSY_RETRY_SECONDS} s (tokens already verified are not affected)`,
      );
    }
    try {
      return await check();
    } finally {
      // The turn passes straight to the next waiter, so `running` never exceeds the bound.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }

  /** Waits for a turn: true when given one, false when the wait ran out (and left the queue). */
  #turn(): Promise<boolean> {
    return new Promise((resolve) => {
      const turn = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = this.#waiting.indexOf(turn);
        // Not in the queue any more: the turn was given already (and `turn` resolves).
        if (i < 0) return;
        this.#waiting.splice(i, 1);
        resolve(false);
      }, this.#maxWaitMs);
      this.#waiting.push(turn);
    });
  }
}
