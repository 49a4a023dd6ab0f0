#!/usr/bin/env node
import { isCatchmentError } from '@catchment/core';
import { Command, CommanderError } from 'commander';
import { configCommands } from './commands/config.ts';
import { dnssecCommands } from './commands/dnssec.ts';
import { migrateCommand } from './commands/migrate.ts';
import { startCommand } from './commands/start.ts';
import { tokenCommands } from './commands/token.ts';
import { VERSION } from './version.ts';

const program = new Command('catchment')
  .description('Catchment: GeoDNS + anycast traffic steering with automated load shedding')
  .version(VERSION, '-V, --version')
  .exitOverride();

program
  .command('version')
  .description('print the version')
  .action(() => {
    process.stdout.write(`catchment ${VERSION} (node ${process.version})\n`);
  });
startCommand(program);
migrateCommand(program);
configCommands(program);
tokenCommands(program);
dnssecCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (isCatchmentError(err)) {
    process.stderr.write(`catchment: ${err.describe()}\n`);
  } else {
    process.stderr.write(`catchment: ${(err as Error).stack ?? String(err)}\n`);
  }
  process.exit(1);
}
