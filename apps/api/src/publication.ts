import { EventEmitter } from 'node:events';
import type { Logger, Snapshot, SnapshotBody } from '@catchment/core';
import { type Database, type Db, isDatabaseUnreachable, SNAPSHOT_CHANNEL, schema, withDeadline } from '@catchment/db';
import { desc, eq, gt } from 'drizzle-orm';

/** Compiles the body the current database state (plus active actions) would publish. */
export type CompileSnapshot = (db: Db, now?: Date) => Promise<SnapshotBody>;
/** Publishes a new version when the compiled body differs from the latest; returns the latest. */
export type PublishSnapshot = (db: Db, actor: string) => Promise<Snapshot | undefined>;

/** How long the database may take before a snapshot request is answered from memory. */
const MEMORY_AFTER_MS = 1000;

function snapshotOf(row: typeof schema.snapshots.$inferSelect): Snapshot {
  return {
    schema: 1,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    checksum: row.checksum,
    body: row.body as SnapshotBody,
  };
}

export interface HubOptions {
  db: Db;
  logger: Logger;
  publish?: PublishSnapshot | undefined;
  /** How often the database is checked for versions published by other processes, while someone waits. */
  pollMs?: number;
  /**
   * LISTEN for other processes' publications (Database.listen): waiters on every API instance
   * wake at once when any instance or controller publishes. The poll remains, at `pollMs` or
   * every 5 s when listening, for notifications lost while the listen connection reconnects.
   */
  listen?: Database['listen'];
}

/**
 * The API's view of published snapshots. Long-poll waiters are woken at once by
 * publications in this process (`notify`, called by the API after it publishes, and by
 * an in-process controller) and, for other processes' publications, by a poll of the
 * latest version that runs only while someone waits. Emits 'snapshot' for every new
 * version it learns of, so a DNS server in the same process can follow without HTTP.
 */
export class SnapshotHub extends EventEmitter<{ snapshot: [Snapshot] }> {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #publish: PublishSnapshot | undefined;
  readonly #pollMs: number;
  #latest: Snapshot | undefined;
  #text: { version: number; text: string } | undefined;
  #waiters = new Set<(force?: boolean) => void>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #pollFailing = false;
  readonly #listen: Database['listen'] | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  #listening = false;

  constructor(opts: HubOptions) {
    super();
    this.#db = opts.db;
    this.#logger = opts.logger;
    this.#publish = opts.publish;
    this.#pollMs = opts.pollMs ?? 250;
    this.#listen = opts.listen;
  }

  /** Starts listening for other processes' publications (when the database can); a failure leaves the poll alone in charge. */
  async subscribe(): Promise<void> {
    if (!this.#listen || this.#unlisten || this.#closed) return;
    const look = () => {
      this.#latestFromDb().catch((err) => this.#logger.warn({ err }, 'cannot read the notified snapshot'));
    };
    try {
      const unlisten = await this.#listen(SNAPSHOT_CHANNEL, look, () => {
        this.#listening = true;
        // (Re)connected: anything published while the listen was down was not notified.
        look();
      });
      if (this.#closed) await unlisten();
      else this.#unlisten = unlisten;
    } catch (err) {
      this.#logger.warn({ err }, 'cannot LISTEN for snapshot publications; polling only');
    }
  }

  /** True while notifications of other processes' publications arrive (LISTEN established). */
  get listening(): boolean {
    return this.#listening && !!this.#unlisten;
  }

  /** Long-polls waiting right now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** The newest snapshot this process knows of, without a query. */
  latestKnown(): Snapshot | undefined {
    return this.#latest;
  }

  /**
   * The latest published snapshot: one cheap query for the version, the body only when it is
   * new. While the database is unreachable: the latest this process knows (snapshots are
   * served from memory through an outage).
   */
  async latest(): Promise<Snapshot | undefined> {
    try {
      return await (this.#latest ? withDeadline(this.#latestFromDb(), MEMORY_AFTER_MS) : this.#latestFromDb());
    } catch (err) {
      if (this.#latest && isDatabaseUnreachable(err)) return this.#latest;
      throw err;
    }
  }

  async #latestFromDb(): Promise<Snapshot | undefined> {
    const [head] = await this.#db
      .select({ version: schema.snapshots.version })
      .from(schema.snapshots)
      .orderBy(desc(schema.snapshots.version))
      .limit(1);
    if (head && (!this.#latest || head.version > this.#latest.version)) {
      const [row] = await this.#db.select().from(schema.snapshots).where(eq(schema.snapshots.version, head.version));
      if (row) this.#learn(snapshotOf(row));
    }
    return this.#latest;
  }

  /** The JSON text of a snapshot, serialised once per version (every consumer gets the same bytes). */
  serialised(snap: Snapshot): string {
    if (this.#text?.version !== snap.version) this.#text = { version: snap.version, text: JSON.stringify(snap) };
    return this.#text.text;
  }

  async byVersion(version: number): Promise<Snapshot | undefined> {
    if (this.#latest?.version === version) return this.#latest;
    const [row] = await this.#db.select().from(schema.snapshots).where(eq(schema.snapshots.version, version));
    return row ? snapshotOf(row) : undefined;
  }

  /** The latest snapshot when it is newer than `since`: consumers jump straight to the newest state. */
  async newerThan(since: number): Promise<Snapshot | undefined> {
    const cached = this.#latest;
    if (cached && cached.version > since) return cached;
    let row: typeof schema.snapshots.$inferSelect | undefined;
    try {
      const query = this.#db
        .select()
        .from(schema.snapshots)
        .where(gt(schema.snapshots.version, since))
        .orderBy(desc(schema.snapshots.version))
        .limit(1);
      [row] = await (cached ? withDeadline(query, MEMORY_AFTER_MS) : query);
    } catch (err) {
      // Nothing newer in memory, and the database cannot say otherwise now: wait in memory.
      if (cached && isDatabaseUnreachable(err)) return undefined;
      throw err;
    }
    if (!row) return undefined;
    const snap = snapshotOf(row);
    this.#learn(snap);
    return snap;
  }

  /** Resolves with the latest snapshot newer than `since`, or undefined after `waitMs` (or on abort/close). */
  async waitNewer(since: number, waitMs: number, signal?: AbortSignal): Promise<Snapshot | undefined> {
    const now = await this.newerThan(since);
    if (now || waitMs <= 0 || this.#closed) return now;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timeout);
        this.#waiters.delete(wake);
        signal?.removeEventListener('abort', done);
        this.#updatePolling();
        resolve();
      };
      const wake = (force?: boolean) => {
        if (force || (this.#latest?.version ?? 0) > since) done();
      };
      const timeout = setTimeout(done, waitMs);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(wake);
      this.#updatePolling();
    });
    const v = this.#latest;
    return v && v.version > since ? v : undefined;
  }

  /** A snapshot was published in this process: wake the waiters now. */
  notify(snap: Snapshot): void {
    this.#learn(snap);
  }

  /** Compiles and publishes (when a publisher is configured), then wakes the waiters. */
  async publish(actor: string): Promise<Snapshot | undefined> {
    if (!this.#publish) return undefined;
    const snap = await this.#publish(this.#db, actor);
    if (snap) this.#learn(snap);
    return snap;
  }

  close(): void {
    this.#closed = true;
    this.#unlisten?.().catch(() => {});
    this.#unlisten = undefined;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const w of [...this.#waiters]) w(true);
    this.#waiters.clear();
  }

  #learn(snap: Snapshot): void {
    if (this.#latest && snap.version <= this.#latest.version) return;
    this.#latest = snap;
    for (const w of [...this.#waiters]) w();
    this.emit('snapshot', snap);
  }

  #updatePolling(): void {
    if (this.#waiters.size > 0 && !this.#timer && !this.#closed) {
      this.#timer = setInterval(
        () => {
          this.#latestFromDb().then(
            () => {
              if (this.#pollFailing) this.#logger.info('snapshot poll works again');
              this.#pollFailing = false;
            },
            (err) => {
              // Once per failure streak: an outage must not flood the log four times a second.
              if (!this.#pollFailing) this.#logger.warn({ err }, 'snapshot poll failed; serving from memory');
              this.#pollFailing = true;
            },
          );
        },
        this.listening ? Math.max(this.#pollMs, 5000) : this.#pollMs,
      );
      this.#timer.unref();
    } else if (this.#waiters.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
