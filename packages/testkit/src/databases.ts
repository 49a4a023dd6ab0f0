import { after } from 'node:test';
import { type Database, migrate, openDatabase } from '@catchment/db';
import { type PostgresCluster, startPostgres } from './postgres.ts';

export type DbMode = 'pglite' | 'postgres';
export const DB_MODES: DbMode[] = ['pglite', 'postgres'];

let cluster: Promise<PostgresCluster> | undefined;

/** One PostgreSQL cluster per test file (process), stopped when the file's tests end. */
export function sharedCluster(): Promise<PostgresCluster> {
  if (!cluster) {
    cluster = startPostgres();
    after(async () => {
      await (await cluster)?.stop();
    });
  }
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
