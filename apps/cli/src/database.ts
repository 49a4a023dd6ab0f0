import { type Logger, runtimeSettings } from '@catchment/core';
import { type Database, migrate, openDatabase } from '@catchment/db';

/** Opens the configured database (DATABASE_URL, else embedded PGlite) and migrates it. */
export async function openMigrated(logger: Logger, opts: { migrate?: boolean } = {}): Promise<Database> {
  const settings = runtimeSettings();
  const database = await openDatabase({ url: settings.databaseUrl, dataDir: settings.dataDir });
  logger.info({ kind: database.kind, location: database.location }, 'database open');
  if (opts.migrate !== false) {
    await migrate(database);
    logger.info('migrations applied');
  }
  return database;
}
