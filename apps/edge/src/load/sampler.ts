import type { Logger } from '@catchment/core';
import type { EdgeMetrics } from '../metrics.ts';
import type { EdgeLoad, LoadSource } from './source.ts';

export interface LoadSamplerOptions {
  source: LoadSource;
  /** Read every so often (ms, default 5 s): the rate is over this interval. */
  intervalMs?: number;
  /** A read that takes longer fails (ms, default: the interval, at most 5 s). */
  timeoutMs?: number;
  metrics: EdgeMetrics;
  logger: Logger;
}

/**
 * Reads the load source on its own timer, so the rate is over an even interval whatever
 * triggers a report. Keeps the latest good sample; a failed read drops it (the next report
 * carries no load, never a stale or made-up one), is counted, and is logged when the
 * source starts failing or fails differently, and when it recovers. Nothing here touches
 * routing.
 */
export class LoadSampler {
  readonly #o: LoadSamplerOptions;
  readonly #interval: number;
  #latest: EdgeLoad | undefined;
  #latestAt = 0;
  #lastError: string | null = null;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(opts: LoadSamplerOptions) {
    this.#o = opts;
    this.#interval = opts.intervalMs ?? 5000;
    if (!(this.#interval > 0)) throw new Error('the load interval must be > 0 ms');
  }

  start(): void {
    if (this.#timer) return;
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.#interval);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }

  /** The latest sample while it is fresh (from the last read, within three intervals). */
  current(): EdgeLoad | undefined {
    if (!this.#latest || performance.now() - this.#latestAt > 3 * this.#interval) return undefined;
    return this.#latest;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /** One read now (the timer's; tests may call it). Reads never overlap. */
  sample(): Promise<void> {
    this.#inFlight ??= this.#read().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #read(): Promise<void> {
    const { source, metrics, logger } = this.#o;
    const timeoutMs = this.#o.timeoutMs ?? Math.min(this.#interval, 5000);
    let timer: NodeJS.Timeout | undefined;
    try {
      const rps = await Promise.race([
        source.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (this.#lastError !== null) logger.info({ source: source.description }, 'load source readable again');
      this.#lastError = null;
      if (rps === undefined) {
        // First sample of a counter (or its series changed): a rate from the next one.
        this.#latest = undefined;
        metrics.loadRps.remove({ source: source.kind });
        return;
      }
      if (!Number.isFinite(rps) || rps < 0) throw new Error(`load ${rps} is not a rate`);
      this.#latest = { rps, source: source.kind, sampledAt: new Date().toISOString() };
      this.#latestAt = performance.now();
      metrics.loadRps.set({ source: source.kind }, rps);
      metrics.loadSampleTimestamp.set({ source: source.kind }, Date.now() / 1000);
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      this.#latest = undefined;
      metrics.loadRps.remove({ source: source.kind });
      metrics.loadReadErrors.inc({ source: source.kind });
      const log = message === this.#lastError ? logger.debug.bind(logger) : logger.warn.bind(logger);
      log({ source: source.description, err: message }, 'cannot read the load; reports carry no load');
      this.#lastError = message;
    } finally {
      clearTimeout(timer);
    }
  }
}
