import { CatchmentError } from '@catchment/core';

/** Retry-After of SIMULATION_BUSY, seconds: a small scenario takes about this long. */
export const SIMULATION_RETRY_SECONDS = 30;

/**
 * One simulation at a time per API instance: a run keeps a core busy for its whole length,
 * and two would halve the API's own share of the machine. The second caller is told to retry.
 */
export class OneAtATime {
  #running: { since: number } | undefined;

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running) {
      const s = Math.round((Date.now() - this.#running.since) / 1000);
      throw new CatchmentError(
        'SIMULATION_BUSY',
        `a simulation has been running on this API instance for ${s} s; retry later`,
      );
    }
    this.#running = { since: Date.now() };
    try {
      return await work();
    } finally {
      this.#running = undefined;
    }
  }
}
