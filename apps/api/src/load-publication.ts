import { DEFAULT_LOAD_STALE_MS, type Logger } from '@catchment/core';

export interface LoadPublicationOptions {
  /** Shortest time between two load-only publications of this API instance (default 10 s). */
  intervalMs?: number;
  /** When loads go stale (the compiler's bound): a check follows the last report by this much. */
  staleMs?: number;
}

/**
 * Load reports reach DNS without waiting for an unrelated change: a report asks for a
 * load-only publication, at most one per `intervalMs` (reports in between coalesce into
 * the next one), which publishes only when the answers would change (the `check` decides:
 * the API passes packages/db publishSnapshot with packages/geo steeringChanged). One more
 * check follows the last report by the stale bound, so an edge whose agent went silent stops
 * shedding by its old load (its load is then unknown: nothing moves).
 */
export class LoadPublisher {
  readonly #check: () => Promise<unknown>;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #staleMs: number;
  #lastRun = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #staleTimer: NodeJS.Timeout | undefined;
  #lastReport = 0;
  #closed = false;
  #failing = false;

  constructor(check: () => Promise<unknown>, logger: Logger, opts: LoadPublicationOptions = {}) {
    this.#check = check;
    this.#logger = logger;
    this.#intervalMs = Math.max(0, opts.intervalMs ?? 10_000);
    this.#staleMs = opts.staleMs ?? DEFAULT_LOAD_STALE_MS;
  }

  /** A load report was stored: a check runs within the interval. */
  reported(): void {
    if (this.#closed) return;
    this.#lastReport = Date.now();
    this.#schedule();
    if (!this.#staleTimer) this.#armStale();
  }

  /** Resolves when no check is running or due (tests). */
  async idle(): Promise<void> {
    while (this.#running || this.#timer) {
      await (this.#running ?? new Promise((r) => setTimeout(r, 10)));
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#staleTimer);
    this.#timer = undefined;
    this.#staleTimer = undefined;
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    // A check running now may have read the state before this report: run once more after it.
    if (this.#running) {
      this.#again = true;
      return;
    }
    const wait = Math.max(0, this.#lastRun + this.#intervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#run();
    }, wait);
    this.#timer.unref();
  }

  #run(): void {
    this.#lastRun = Date.now();
    this.#running = this.#check()
      .then(
        () => {
          if (this.#failing) this.#logger.info('load publication works again');
          this.#failing = false;
        },
        (err) => {
          // Once per failure streak; the next report (or an unrelated change) publishes.
          if (!this.#failing) this.#logger.warn({ err }, 'load publication failed');
          this.#failing = true;
        },
      )
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#schedule();
        }
      });
  }

  #armStale(): void {
    const armedFor = this.#lastReport;
    this.#staleTimer = setTimeout(
      () => {
        this.#staleTimer = undefined;
        this.#schedule();
        // Reports came since: the last of them goes stale later.
        if (this.#lastReport !== armedFor) this.#armStale();
      },
      Math.max(0, armedFor + this.#staleMs + 1000 - Date.now()),
    );
    this.#staleTimer.unref();
  }
}
