import type { Command } from 'commander';

// The commands that work on the database directly (start, migrate, publish). Their
// modules load the whole server, so they are imported only when one of them runs.
const DEMO = new URL('../../../../config/demo.yaml', import.meta.url).pathname;

export function localCommands(program: Command): void {
  program
    .command('start')
    .description('start Catchment: API, DNS server and controller in one process (embedded database by default)')
    .option('--config <file>', 'configuration loaded into an empty database', DEMO)
    .option('--no-demo', 'start with an empty database instead of loading --config')
    .option(
      '--only <parts>',
      'comma-separated parts to run in this process: api, dns, controller; or edge (an edge agent)',
    )
    .action(async (opts: { config: string; demo: boolean; only?: string }) => {
      const { runStart } = await import('./start.ts');
      await runStart(opts);
    });

  program
    .command('migrate')
    .description('apply pending database migrations (also done at start)')
    .option('--status', 'only print applied / available migrations')
    .action(async (opts: { status?: boolean }) => {
      const [{ createLogger }, { migrationStatus }, { openMigrated }] = await Promise.all([
        import('@catchment/core'),
        import('@catchment/db'),
        import('../database.ts'),
      ]);
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
