import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { type Database, type Db, rowsOf } from './connection.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

/** A pg_advisory_lock key that no other application on the cluster is likely to use. */
const MIGRATION_LOCK = 0x43617463;

/**
 * Applies every pending migration. On PostgreSQL, replicas that start together
 * serialise on a session advisory lock, on a dedicated single connection so that the
 * lock and the migrator's transaction share it.
 */
export async function migrate(database: Database): Promise<void> {
  const config = { migrationsFolder: MIGRATIONS_DIR, migrationsSchema: 'drizzle' };
  if (database.kind === 'pglite') {
    await migratePglite(database.db as unknown as PgliteDatabase, config);
    return;
  }
  const client = postgres(database.url ?? '', { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzle(client), config);
    await client`select pg_advisory_unlock(${MIGRATION_LOCK})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** Applied migrations vs. those shipped, for /readyz and `catchment migrate --status`. */
export async function migrationStatus(db: Db): Promise<{ applied: number; available: number }> {
  const journal = JSON.parse(await readFile(`${MIGRATIONS_DIR}/meta/_journal.json`, 'utf8')) as {
    entries: unknown[];
  };
  let applied = 0;
  try {
    const rows = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`),
    );
    applied = Number(rows[0]?.n ?? 0);
  } catch {
    applied = 0;
  }
  return { applied, available: journal.entries.length };
}
