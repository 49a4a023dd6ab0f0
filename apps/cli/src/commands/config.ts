import { writeFile } from 'node:fs/promises';
import { configToYaml, createLogger, loadConfigFile } from '@catchment/core';
import { exportConfig, importConfig, publishSnapshot } from '@catchment/db';
import type { Command } from 'commander';
import { openMigrated } from '../database.ts';

export function configCommands(program: Command): void {
  program
    .command('import')
    .description('make the database hold exactly the objects of a YAML configuration file (all or nothing)')
    .argument('<file>', 'configuration file (YAML)')
    .option('--dry-run', 'print the plan without changing anything')
    .option('--reason <text>', 'reason recorded in the audit log', 'configuration import')
    .option('--actor <name>', 'actor recorded in the audit log', process.env.USER ?? 'cli')
    .action(async (file: string, opts: { dryRun?: boolean; reason: string; actor: string }) => {
      const logger = createLogger('catchment-import', { stderr: true });
      const cfg = await loadConfigFile(file); // fails before touching the database
      const database = await openMigrated(logger);
      try {
        const result = await importConfig(database.db, cfg, {
          actor: `cli:${opts.actor}`,
          reason: opts.reason,
          dryRun: opts.dryRun ?? false,
        });
        for (const c of result.changes) process.stdout.write(`${c.op.padEnd(6)} ${c.kind} ${c.key}\n`);
        if (result.changes.length === 0) process.stdout.write('no changes\n');
        if (result.applied) {
          const { snapshot, published } = await publishSnapshot(database.db, { actor: `cli:${opts.actor}` });
          process.stdout.write(
            `${result.changes.length} change(s) applied; snapshot v${snapshot.version}${published ? ' published' : ''}\n`,
          );
        } else if (opts.dryRun) {
          process.stdout.write(`dry run: ${result.changes.length} change(s) planned, nothing written\n`);
        }
      } finally {
        await database.close();
      }
    });

  program
    .command('export')
    .description('write the configuration in the database as YAML')
    .option('-o, --output <file>', 'file to write (default: standard output)')
    .action(async (opts: { output?: string }) => {
      const logger = createLogger('catchment-export', { stderr: true });
      const database = await openMigrated(logger);
      try {
        const yaml = configToYaml(await exportConfig(database.db));
        if (opts.output) await writeFile(opts.output, yaml);
        else process.stdout.write(yaml);
      } finally {
        await database.close();
      }
    });

  program
    .command('publish')
    .description('compile the current state and publish it as a new snapshot version if it changed')
    .action(async () => {
      const logger = createLogger('catchment-publish', { stderr: true });
      const database = await openMigrated(logger);
      try {
        const { snapshot, published } = await publishSnapshot(database.db, { actor: 'cli' });
        process.stdout.write(
          `snapshot v${snapshot.version} ${snapshot.checksum}${published ? ' (new)' : ' (unchanged)'}\n`,
        );
      } finally {
        await database.close();
      }
    });
}
