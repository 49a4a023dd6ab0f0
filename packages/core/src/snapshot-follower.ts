import { EventEmitter } from 'node:events';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ApiClient, type ClientTlsFiles } from '@catchment/api-client';
import type { Logger } from './logger.ts';
import { verifySnapshot } from './snapshot.ts';
import type { Snapshot } from './snapshot-schema.ts';

export interface SnapshotFollowerOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:8080, or a comma-separated list (failover in order). */
  apiUrl?: string;
  token?: string | undefined;
  /** CA and client certificate files for an https API. */
  tls?: ClientTlsFiles;
  /** The API client to use instead of apiUrl/token/tls (shared with the process's reports). */
  client?: ApiClient;
  /** Last-known-good snapshot on disk: read at start, rewritten after each accepted version. */
  cacheFile: string;
  /** Long-poll duration asked of the API. */
  waitSeconds?: number;
  /** Delay before retrying after a failure (doubles up to 16x). */
  retryMs?: number;
  logger?: Logger;
}

export interface FollowerStatus {
  version: number | undefined;
  /** Where the current snapshot came from: the last-good file, the API, or this process (`offer`). */
  source: 'cache' | 'api' | 'process' | undefined;
  lastSuccessAt: Date | undefined;
  lastError: string | undefined;
  consecutiveFailures: number;
}

/**
 * Follows the published snapshot for a DNS server or an edge agent (design: static
 * stability). It starts from the last-known-good file, long-polls the API by version,
 * verifies schema and checksum before accepting anything, never goes back to an older
 * version, and keeps the current snapshot whatever happens to the API or database.
 */
export class SnapshotFollower extends EventEmitter<{ snapshot: [Snapshot] }> {
  readonly #opts: Required<Pick<SnapshotFollowerOptions, 'cacheFile' | 'waitSeconds' | 'retryMs'>> &
    SnapshotFollowerOptions;
  readonly #client: ApiClient;
  #current: Snapshot | undefined;
  #status: FollowerStatus = {
    version: undefined,
    source: undefined,
    lastSuccessAt: undefined,
    lastError: undefined,
    consecutiveFailures: 0,
  };
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #saving: Promise<void> = Promise.resolve();

  constructor(opts: SnapshotFollowerOptions) {
    super();
    // `undefined` in opts means "the default", not "no value".
    this.#opts = { ...opts, waitSeconds: opts.waitSeconds ?? 30, retryMs: opts.retryMs ?? 500 };
    if (!opts.client && !opts.apiUrl) throw new Error('SnapshotFollower needs apiUrl or client');
    this.#client =
      opts.client ??
      new ApiClient({
        urls: opts.apiUrl as string,
        token: opts.token,
        ...(opts.tls ? { tls: opts.tls } : {}),
        onFailover: (from, to, reason) =>
          opts.logger?.warn({ from, to, reason }, 'API unreachable; trying the next API URL'),
      });
  }

  /** The client the follower fetches with (its URL list, TLS settings). */
  get client(): ApiClient {
    return this.#client;
  }

  current(): Snapshot | undefined {
    return this.#current;
  }

  status(): FollowerStatus {
    return { ...this.#status };
  }

  /** Loads the cached snapshot (if any and valid), then follows the API in the background. */
  async start(): Promise<void> {
    await this.#loadCache();
    this.#loop = this.#follow();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    if (!this.#opts.client) this.#client.close();
  }

  /** Waits until a snapshot is available (from cache or API), or the timeout passes. */
  async ready(timeoutMs: number): Promise<Snapshot | undefined> {
    if (this.#current) return this.#current;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.off('snapshot', onSnap);
        resolve(this.#current);
      }, timeoutMs);
      const onSnap = (s: Snapshot) => {
        clearTimeout(timer);
        resolve(s);
      };
      this.once('snapshot', onSnap);
    });
  }

  /**
   * A snapshot handed over in this process (the API's or a controller's publication):
   * verified, taken when newer, and kept as the last-known-good file like one from the API.
   */
  async offer(snap: Snapshot): Promise<boolean> {
    const verified = verifySnapshot(snap);
    if (!this.#accept(verified, 'process')) return false;
    await this.#saveCache(verified).catch((err) =>
      this.#opts.logger?.error({ err }, 'cannot write last-known-good snapshot'),
    );
    return true;
  }

  async #loadCache(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#opts.cacheFile, 'utf8');
    } catch {
      return; // no cache yet
    }
    try {
      this.#accept(verifySnapshot(JSON.parse(text)), 'cache');
    } catch (err) {
      this.#opts.logger?.warn({ err, file: this.#opts.cacheFile }, 'ignoring invalid last-known-good snapshot');
    }
  }

  #accept(snap: Snapshot, source: 'cache' | 'api' | 'process'): boolean {
    if (this.#current && snap.version <= this.#current.version) return false;
    this.#current = snap;
    this.#status.version = snap.version;
    this.#status.source = source;
    this.emit('snapshot', snap);
    return true;
  }

  /** Writes one at a time, and always the newest accepted version (offer and the poll may race). */
  #saveCache(snap: Snapshot): Promise<void> {
    const run = this.#saving.then(() => this.#writeCache(this.#current ?? snap));
    this.#saving = run.catch(() => undefined);
    return run;
  }

  async #writeCache(snap: Snapshot): Promise<void> {
    const file = this.#opts.cacheFile;
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(snap));
    await rename(tmp, file); // atomic: a crash never leaves a half-written cache
  }

  async #follow(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        const snap = await this.#fetchNext(signal);
        this.#status.lastSuccessAt = new Date();
        this.#status.lastError = undefined;
        this.#status.consecutiveFailures = 0;
        if (snap && this.#accept(snap, 'api')) {
          this.#opts.logger?.info({ version: snap.version }, 'snapshot accepted');
          await this.#saveCache(snap).catch((err) =>
            this.#opts.logger?.error({ err }, 'cannot write last-known-good snapshot'),
          );
        }
      } catch (err) {
        if (signal.aborted) break;
        const failures = ++this.#status.consecutiveFailures;
        this.#status.lastError = (err as Error).message;
        this.#opts.logger?.warn(
          { err: (err as Error).message, failures, version: this.#current?.version },
          'snapshot fetch failed; keeping the current snapshot',
        );
        const delay = this.#opts.retryMs * 2 ** Math.min(failures - 1, 4);
        await new Promise<void>((r) => {
          const timer = setTimeout(r, delay * (0.75 + Math.random() / 2));
          const wake = () => {
            clearTimeout(timer);
            r();
          };
          signal.addEventListener('abort', wake, { once: true });
        });
      }
    }
  }

  async #fetchNext(signal: AbortSignal): Promise<Snapshot | undefined> {
    const since = this.#current?.version ?? 0;
    const q = new URLSearchParams({ since: String(since), wait: String(this.#opts.waitSeconds) });
    const headers: Record<string, string> = {};
    if (since > 0) headers['if-none-match'] = `"${since}"`;
    const res = await this.#client.request('GET', `/v1/snapshot?${q}`, {
      headers,
      signal,
      timeoutMs: (this.#opts.waitSeconds + 10) * 1000,
    });
    if (res.status === 304) return undefined;
    if (res.status < 200 || res.status >= 300)
      throw new Error(`GET /v1/snapshot at ${res.url} answered ${res.status}: ${res.text.slice(0, 200)}`);
    return verifySnapshot(JSON.parse(res.text));
  }
}
