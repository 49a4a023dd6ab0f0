import type { Database, Db } from '@catchment/db';
import { rowsOf, schema } from '@catchment/db';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';

/** The advisory lock of the controllers' leadership: (class, key) = ("Catc", "lead"). */
export const LEADER_LOCK: [number, number] = [0x43617463, 0x6c656164];

/**
 * Exactly one controller replica leads. On PostgreSQL: a session advisory lock held
 * on a dedicated connection, through which the leader also does all its work. If the
 * leader dies, its session ends, PostgreSQL releases the lock, and a standby polling
 * every `pollMs` takes over. If the connection drops and reconnects, the new session
 * does not hold the lock: the leader notices before its next tick and steps down.
 * On PGlite (one process owns the database) the only controller leads.
 */
export interface Leadership {
  /** The database handle the leader works through. */
  readonly db: Db;
  isLeader(): boolean;
  /** Tries to become (or confirms it still is) the leader; returns whether it leads. */
  check(): Promise<boolean>;
  /** Gives the lock up (graceful shutdown: a standby takes over at once). */
  release(): Promise<void>;
  /** Drops the connection without a word, as a crash would (tests). */
  crash(): Promise<void>;
}

export class LocalLeadership implements Leadership {
  readonly db: Db;
  #leader = true;
  constructor(database: Database) {
    this.db = database.db;
  }
  isLeader() {
    return this.#leader;
  }
  async check() {
    return this.#leader;
  }
  async release() {
    this.#leader = false;
  }
  async crash() {
    this.#leader = false;
  }
}

export class AdvisoryLockLeadership implements Leadership {
  readonly db: Db;
  readonly #client: postgres.Sql;
  #leader = false;
  #closed = false;

  constructor(url: string) {
    this.#client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5, idle_timeout: 0 });
    this.db = drizzle(this.#client, { schema }) as unknown as Db;
  }

  isLeader() {
    return this.#leader && !this.#closed;
  }

  async check(): Promise<boolean> {
    if (this.#closed) return false;
    const [k1, k2] = LEADER_LOCK;
    try {
      if (this.#leader) {
        const held = rowsOf<{ held: boolean }>(
          await this.db.execute(
            sql`select exists(select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted and classid = ${k1}::int::oid and objid = ${k2}::int::oid) as held`,
          ),
        );
        this.#leader = held[0]?.held === true;
      } else {
        const got = rowsOf<{ got: boolean }>(
          await this.db.execute(sql`select pg_try_advisory_lock(${k1}::int, ${k2}::int) as got`),
        );
        this.#leader = got[0]?.got === true;
      }
    } catch {
      this.#leader = false;
    }
    return this.#leader;
  }

  async release(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#leader) {
      const [k1, k2] = LEADER_LOCK;
      await this.db.execute(sql`select pg_advisory_unlock(${k1}::int, ${k2}::int)`).catch(() => {});
    }
    this.#leader = false;
    await this.#client.end({ timeout: 5 });
  }

  async crash(): Promise<void> {
    this.#closed = true;
    this.#leader = false;
    await this.#client.end({ timeout: 0 });
  }
}

export function leadershipFor(database: Database): Leadership {
  if (database.kind === 'postgres' && database.url) return new AdvisoryLockLeadership(database.url);
  return new LocalLeadership(database);
}
