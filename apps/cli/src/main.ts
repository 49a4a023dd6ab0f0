#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { actionCommands } from './commands/actions.ts';
import { completionCommand } from './commands/completion.ts';
import { configCommands } from './commands/config.ts';
import { contextCommands } from './commands/context.ts';
import { describeCommand } from './commands/describe.ts';
import { dnssecCommands } from './commands/dnssec.ts';
import { explainCommand } from './commands/explain.ts';
import { getCommand } from './commands/get.ts';
import { labCommands } from './commands/lab.ts';
import { localCommands } from './commands/local.ts';
import { pinCommands } from './commands/pin.ts';
import { runCommands } from './commands/runs.ts';
import { simulateCommand } from './commands/simulate.ts';
import { sloCommands } from './commands/slo.ts';
import { statusCommand } from './commands/status.ts';
import { tokenCommands } from './commands/token.ts';
import { zoneCommands } from './commands/zone.ts';
import { VERSION } from './version.ts';

// Only commander and the CLI's own small modules load here: every command but start,
// migrate and `token bootstrap` is an API client, and answers in well under 300 ms.
const program = new Command('catchment')
  .description('Catchment: GeoDNS + anycast traffic steering with automated load shedding')
  .version(VERSION, '-V, --version')
  .option(
    '--api-url <url>',
    'API base URL, or several comma-separated (tried in order; env CATCHMENT_API_URL; default: the context, else http://127.0.0.1:8080)',
  )
  .option(
    '--token <token>',
    'API token (env CATCHMENT_API_TOKEN; default: the context, else $CATCHMENT_DATA_DIR/admin-token)',
  )
  .option('--context <name>', 'use this context of the contexts file (env CATCHMENT_CONTEXT)')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
  .showHelpAfterError('(catchment --help lists the commands)')
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'catchment: USAGE: ')) });

program
  .command('version')
  .description('print the version')
  .action(() => {
    process.stdout.write(`catchment ${VERSION} (node ${process.version})\n`);
  });
localCommands(program);
labCommands(program);
statusCommand(program);
getCommand(program);
describeCommand(program);
explainCommand(program);
actionCommands(program);
pinCommands(program);
runCommands(program);
tokenCommands(program);
dnssecCommands(program);
sloCommands(program);
simulateCommand(program);
configCommands(program);
zoneCommands(program);
contextCommands(program);
completionCommand(program);

interface Describable {
  code: string;
  describe(): string;
  exitCode?: number;
}
const describable = (e: unknown): e is Describable =>
  typeof e === 'object' && e !== null && typeof (e as Describable).describe === 'function' && 'code' in e;

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  // CliError (API problems, usage) and CatchmentError (local database commands) alike.
  if (describable(err)) {
    process.stderr.write(`catchment: ${err.describe()}\n`);
    process.exit(err.exitCode ?? 1);
  }
  process.stderr.write(`catchment: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
