import { createLogger } from '@catchment/core';
import { migrationStatus } from '@catchment/db';
import type { Command } from 'commander';
import { openMigrated } from '../database.ts';

export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (also done at start)')
    .option('--status', 'only print applied / available migrations')
    .action(async (opts: { status?: boolean }) => {
      const logger = createLogger('catchment-migrate', { stderr: true });
      const database = await openMigrated(logger, { migrate: !opts.status });
      try {
        const status = await migrationStatus(database.db);
        process.stdout.write(
          `${database.kind} ${database.location}: ${status.applied}/${status.available} migrations applied\n`,
        );
      } finally {
        await database.close();
      }
    });
}
