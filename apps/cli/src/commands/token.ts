import { createToken, ROLES, type Role } from '@catchment/api';
import { CatchmentError, createLogger } from '@catchment/core';
import type { Command } from 'commander';
import { openMigrated } from '../database.ts';

export function tokenCommands(program: Command): void {
  const token = program.command('token').description('API tokens');
  token
    .command('create')
    .description('create an API token: printed once, stored hashed (scrypt)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <name>', 'unique name of the token (default: <role>-<timestamp>)')
    .option('--scope <consumer>', 'agent tokens: the edge or DNS server it may report for')
    .option('--expires <iso-date>', 'expiry, e.g. 2027-01-01T00:00:00Z')
    .action(async (opts: { role: string; name?: string; scope?: string; expires?: string }) => {
      if (!(ROLES as readonly string[]).includes(opts.role)) {
        throw new CatchmentError('VALIDATION_FAILED', `--role must be one of ${ROLES.join(', ')}`);
      }
      const expiresAt = opts.expires ? new Date(opts.expires) : null;
      if (expiresAt && Number.isNaN(expiresAt.getTime())) {
        throw new CatchmentError('VALIDATION_FAILED', `--expires "${opts.expires}" is not a date`);
      }
      const logger = createLogger('catchment-token', { stderr: true });
      const database = await openMigrated(logger);
      try {
        const made = await createToken(database.db, {
          name: opts.name ?? `${opts.role}-${Date.now()}`,
          role: opts.role as Role,
          scope: opts.scope ?? null,
          expiresAt,
          actor: `cli:${process.env.USER ?? 'root'}`,
        });
        process.stderr.write(`token "${made.info.name}" (${made.info.role}) created; it is shown only now:\n`);
        process.stdout.write(`${made.token}\n`);
      } finally {
        await database.close();
      }
    });
}
