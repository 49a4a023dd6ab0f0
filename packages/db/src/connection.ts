import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CatchmentError } from '@catchment/core';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema.ts';

/** One drizzle type for both drivers: every query in Catchment runs on either. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Where it lives, without credentials, for logs. */
  location: string;
  /** The postgres:// URL (postgres mode), for work that needs its own connection. */
  url?: string;
  /**
   * LISTEN on a channel: `onNotify` gets each payload, `onListen` runs each time the listen is
   * (re)established (postgres.js reconnects by itself, to the new primary after a failover;
   * notifications sent in between are lost, so a listener looks again then). Resolves to unlisten.
   */
  listen(channel: string, onNotify: (payload: string) => void, onListen?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** postgres:// URL; when absent, PGlite in `dataDir` (or in memory when dataDir is 'memory'). */
  url?: string | undefined;
  dataDir?: string;
  /** Connections in the postgres pool. */
  poolSize?: number;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparseable URL)';
  }
}

/** Opens the database and checks that it answers; DB_UNREACHABLE otherwise. */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.url) {
    const location = redact(opts.url);
    const client = postgres(opts.url, {
      max: opts.poolSize ?? 10,
      onnotice: () => {},
      connect_timeout: 10,
    });
    const db = drizzlePostgres(client, { schema }) as unknown as Db;
    try {
      await db.execute(sql`select 1`);
    } catch (cause) {
      await client.end({ timeout: 1 }).catch(() => {});
      throw new CatchmentError(
        'DB_UNREACHABLE',
        `cannot reach PostgreSQL at ${location}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    return {
      db,
      kind: 'postgres',
      location,
      url: opts.url,
      async listen(channel, onNotify, onListen) {
        const { unlisten } = await client.listen(channel, onNotify, onListen);
        return unlisten;
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const dataDir = opts.dataDir ?? 'memory';
  if (dataDir === 'memory') {
    const client = new PGlite();
    const db = drizzlePglite(client, { schema }) as unknown as Db;
    return { db, kind: 'pglite', location: 'memory', listen: pgliteListen(client), close: () => client.close() };
  }
  const location = join(dataDir, 'pglite');
  await mkdir(location, { recursive: true });
  const unlock = await lockDataDir(location);
  let client: PGlite;
  try {
    client = new PGlite(location);
    await client.waitReady;
  } catch (cause) {
    await unlock();
    const reason = (cause as Error).message;
    throw new CatchmentError('DB_UNREACHABLE', `cannot open the embedded database in ${location}: ${reason}`, {
      cause,
    });
  }
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return { db, kind: 'pglite', location, listen: pgliteListen(client), close: () => client.close().finally(unlock) };
}

/** PGlite's own LISTEN (one process, one connection: established once). */
function pgliteListen(client: PGlite): Database['listen'] {
  return async (channel, onNotify, onListen) => {
    const unlisten = await client.listen(channel, onNotify);
    onListen?.();
    return unlisten;
  };
}

/**
 * PGlite is one process's database: a second process opening the same folder would
 * corrupt it. A lock file holding the owner's pid refuses that with a clear error, and
 * is taken over when its owner is gone.
 */
async function lockDataDir(location: string): Promise<() => Promise<void>> {
  const file = `${location}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new CatchmentError(
          'DB_UNREACHABLE',
          `the embedded database in ${location} is in use by process ${owner} (a running catchment start?); stop it, or use a PostgreSQL server through DATABASE_URL`,
        );
      }
      await rm(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new CatchmentError('DB_UNREACHABLE', `cannot lock the embedded database in ${location}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** Rows of `db.execute()`: postgres-js returns an array, PGlite an object with `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
