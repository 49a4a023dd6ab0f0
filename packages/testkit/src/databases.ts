import { after } from 'node:test';
import { type Database, migrate, openDatabase } from '@catchment/db';
import { type PostgresCluster, startPostgres } from './postgres.ts';

export type DbMode = 'pglite' | 'postgres';
export const DB_MODES: DbMode[] = ['pglite', 'postgres'];

let cluster: Promise<PostgresCluster> | undefined;

// Registered when a test file imports this module, so it runs after all of the file's tests.
after(async () => {
  await (await cluster?.catch(() => undefined))?.stop();
});

/** One PostgreSQL cluster per test file (process), started on first use. */
export function sharedCluster(): Promise<PostgresCluster> {
  cluster ??= startPostgres();
  return cluster;
}

/**
 * A fresh, migrated database of the given mode: PGlite in memory, or a new database
 * in this file's throwaway PostgreSQL cluster. Close it when done.
 */
export async function freshDatabase(mode: DbMode): Promise<Database> {
  const url = mode === 'postgres' ? await (await sharedCluster()).createDatabase() : undefined;
  const database = await openDatabase({ url, dataDir: 'memory' });
  await migrate(database);
  return database;
}

/** URL of a fresh empty PostgreSQL database (not migrated), for process-level tests. */
export async function freshPostgresUrl(): Promise<string> {
  return (await sharedCluster()).createDatabase();
}
