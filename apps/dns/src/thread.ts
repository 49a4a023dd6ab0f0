import type { Snapshot } from '@catchment/core';
import { GeoDb, type GeoOptions } from '@catchment/geo';
import { compileSnapshot, networkSetTrie } from './engine.ts';
import { DnsListener, type ListenerOptions } from './listener.ts';
import type { BlockCount, StatsDelta } from './stats.ts';

/**
 * One answering thread: its GeoIP readers, its compiled tables and its sockets. Used in the
 * main thread (workers: 0) and in each worker thread alike.
 */
export interface ThreadOptions {
  listener: ListenerOptions;
  geo: GeoOptions;
  ecsTrustedResolvers: string[];
}

export interface LoadResult {
  version: number;
  blocks: number;
  buildMs: number;
  problems: string[];
}

export class AnswerThread {
  readonly listener: DnsListener;
  readonly geo: GeoDb;
  readonly #opts: ThreadOptions;
  #snapshot: Snapshot | undefined;
  onReload: ((r: LoadResult) => void) | undefined;
  onError: ((err: unknown) => void) | undefined;

  constructor(opts: ThreadOptions) {
    this.#opts = opts;
    this.listener = new DnsListener(opts.listener);
    this.geo = new GeoDb(opts.geo);
    this.geo.on('change', () => {
      // New GeoIP data: rebuild the tables of the current snapshot, then swap.
      if (!this.#snapshot) return;
      try {
        this.onReload?.(this.load(this.#snapshot));
      } catch (err) {
        this.onError?.(err);
      }
    });
    this.geo.on('error', (err) => this.onError?.(err));
  }

  load(snapshot: Snapshot): LoadResult {
    const started = performance.now();
    const zones = compileSnapshot(snapshot, this.geo);
    const trusted = [...this.#opts.ecsTrustedResolvers, ...snapshot.body.settings.ecsTrustedResolvers];
    this.listener.responder.trustedEcs = networkSetTrie(trusted);
    this.listener.setZones(zones);
    this.#snapshot = snapshot;
    return {
      version: snapshot.version,
      blocks: zones.steering.stats.blocks,
      buildMs: Math.round(performance.now() - started),
      problems: zones.problems,
    };
  }

  /** Re-reads the GeoIP files and rebuilds the tables of the current snapshot. */
  reload(): LoadResult | undefined {
    this.geo.reload();
    return this.#snapshot ? this.load(this.#snapshot) : undefined;
  }

  start(): Promise<void> {
    return this.listener.start();
  }

  async stop(): Promise<void> {
    await this.listener.stop();
    this.geo.close();
  }

  drain(): { stats: StatsDelta; tcp: number } {
    return {
      stats: this.listener.stats.drain(this.listener.responder.zones),
      tcp: this.listener.tcpConnections,
    };
  }

  drainBlocks(): BlockCount[] {
    return this.listener.drainBlocks();
  }
}
