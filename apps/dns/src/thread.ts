import type { Snapshot } from '@catchment/core';
import type { SteeringTable } from '@catchment/geo';
import { type CookieSecrets, ServerCookies } from './cookies.ts';
import { networkSetTrie } from './engine.ts';
import { DnsListener, type ListenerOptions } from './listener.ts';
import type { BlockCount, StatsDelta } from './stats.ts';
import { compileZones } from './zone/compile.ts';

/**
 * One answering thread: its compiled zones and its sockets. Used in the main thread
 * (workers: 0) and in each worker thread alike. The steering tables (the large part) are built
 * once by the server and shared with every thread.
 */
export interface ThreadOptions {
  listener: ListenerOptions;
  ecsTrustedResolvers: string[];
  /** DNS cookie secrets (the same in every thread); false: cookies off. */
  cookies: CookieSecrets | false;
}

export interface LoadResult {
  version: number;
  blocks: number;
  buildMs: number;
  problems: string[];
}

export class AnswerThread {
  readonly listener: DnsListener;
  readonly #opts: ThreadOptions;

  constructor(opts: ThreadOptions) {
    this.#opts = opts;
    this.listener = new DnsListener(opts.listener);
    this.setCookies(opts.cookies);
  }

  /** New cookie secrets (a rotation): used from the next query on. */
  setCookies(secrets: CookieSecrets | false): void {
    this.listener.responder.cookies = secrets === false ? undefined : new ServerCookies(secrets);
  }

  /** Compiles the zones of `snapshot` on top of `steering` and swaps them in. */
  load(snapshot: Snapshot, steering: SteeringTable): LoadResult {
    const started = performance.now();
    const zones = compileZones(snapshot, steering);
    const trusted = [...this.#opts.ecsTrustedResolvers, ...snapshot.body.settings.ecsTrustedResolvers];
    this.listener.responder.trustedEcs = networkSetTrie(trusted);
    this.listener.setZones(zones);
    return {
      version: snapshot.version,
      blocks: steering.stats.blocks,
      buildMs: Math.round(performance.now() - started),
      problems: zones.problems,
    };
  }

  start(): Promise<void> {
    return this.listener.start();
  }

  async stop(): Promise<void> {
    await this.listener.stop();
  }

  drain(): { stats: StatsDelta; tcp: number } {
    return {
      stats: this.listener.drainStats(),
      tcp: this.listener.tcpConnections,
    };
  }

  drainBlocks(): BlockCount[] {
    return this.listener.drainBlocks();
  }
}
