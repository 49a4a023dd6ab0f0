import { CatchmentError } from '@catchment/core';
import type { ProgressMessage } from './protocol.ts';

/** Retry-After of SIMULATION_BUSY, seconds: a small scenario takes about this long. */
export const SIMULATION_RETRY_SECONDS = 30;

/** The simulation in progress, as SIMULATION_BUSY tells it. */
export interface RunningSimulation {
  since: number;
  strategies: number;
  done: number;
}

/**
 * One simulation at a time per API instance: a run keeps a core busy for its whole length,
 * and two would halve the API's own share of the machine. The second caller is told to retry,
 * with how far the first has got.
 */
export class OneAtATime {
  #running: RunningSimulation | undefined;

  get running(): Readonly<RunningSimulation> | undefined {
    return this.#running;
  }

  async run<T>(strategies: number, work: (progress: (p: ProgressMessage) => void) => Promise<T>): Promise<T> {
    const busy = this.#running;
    if (busy) {
      const s = Math.round((Date.now() - busy.since) / 1000);
      throw new CatchmentError(
        'SIMULATION_BUSY',
        `a simulation has been running on this API instance for ${s} s (${busy.done} of ${busy.strategies} strategies done); retry later`,
        { details: { runningS: s, strategies: busy.strategies, done: busy.done } },
      );
    }
    const running: RunningSimulation = { since: Date.now(), strategies, done: 0 };
    this.#running = running;
    try {
      return await work((p) => {
        running.done = p.done;
      });
    } finally {
      this.#running = undefined;
    }
  }
}
