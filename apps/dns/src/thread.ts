import type { Snapshot } from '@catchment/core';
import type { SteeringTable } from '@catchment/geo';
import { type CookieSecrets, ServerCookies } from './cookies.ts';
import { newSignatureCache } from './dnssec/signer.ts';
import { DnsListener, type ListenerOptions } from './listener.ts';
import { networkSetTrie } from './network-set.ts';
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
  /** DNSSEC key-encryption key (hex): opens the snapshot's signing keys. Absent: zones served unsigned. */
  dnssecKek?: string;
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
  readonly #kek: Buffer | undefined;
  readonly #signatures = newSignatureCache();
  #resign: NodeJS.Timeout | undefined;

  constructor(opts: ThreadOptions) {
    this.#opts = opts;
    this.#kek = opts.dnssecKek ? Buffer.from(opts.dnssecKek, 'hex') : undefined;
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
    const zones = compileZones(snapshot, steering, { kek: this.#kek, cache: this.#signatures });
    this.#scheduleResign(zones.resignAt, snapshot, steering);
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

  /**
   * Signatures are renewed by compiling the same snapshot again when the first of them reaches
   * its refresh time (the cache keeps every other one); so a server cut off from the control
   * plane keeps valid signatures for as long as it runs.
   */
  #scheduleResign(at: number, snapshot: Snapshot, steering: SteeringTable): void {
    clearTimeout(this.#resign);
    this.#resign = undefined;
    if (!Number.isFinite(at)) return;
    // setTimeout holds at most 2^31-1 ms: wake up then and look again.
    const delay = Math.min(Math.max(1000, at * 1000 - Date.now()), 2 ** 31 - 1);
    this.#resign = setTimeout(() => this.load(snapshot, steering), delay);
    this.#resign.unref();
  }

  start(): Promise<void> {
    return this.listener.start();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#resign);
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
