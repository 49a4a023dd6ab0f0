import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { call, listAll } from '../client/http.ts';
import { printList, printValue } from '../output/format.ts';
import { commandOf, globals } from './common.ts';
import { KINDS } from './kinds.ts';

const ROLES = ['viewer', 'operator', 'admin', 'agent'];

function expiry(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new CliError('USAGE', `--expires "${text}" is not a date`);
  return d.toISOString();
}

export function tokenCommands(program: Command): void {
  const token = program.command('token').description('API tokens: create, list, revoke (through the API); bootstrap');
  token
    .command('create')
    .description('create an API token through the API (admin): printed once, stored hashed')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <name>', 'unique name (default: <role>-<timestamp>)')
    .option('--scope <consumer>', 'agent tokens: the edge or DNS server it may report for')
    .option('--expires <iso-date>', 'expiry, e.g. 2027-01-01T00:00:00Z')
    .action(async (...args: unknown[]) => {
      const g = await globals(commandOf(args));
      const o = g.opts as { role: string; name?: string; scope?: string; expires?: string };
      if (!ROLES.includes(o.role)) throw new CliError('USAGE', `--role must be one of ${ROLES.join(', ')}`);
      const body = {
        name: o.name ?? `${o.role}-${Date.now()}`,
        role: o.role,
        ...(o.scope ? { scope: o.scope } : {}),
        ...(o.expires ? { expiresAt: expiry(o.expires) } : {}),
      };
      const { body: made } = await call<{ token: string; info: { name: string; role: string; id: number } }>(
        g.target,
        'POST',
        '/v1/tokens',
        body,
      );
      if (g.format === 'table') {
        process.stderr.write(
          `token "${made.info.name}" (${made.info.role}, id ${made.info.id}) created; it is shown only now:\n`,
        );
        process.stdout.write(`${made.token}\n`);
      } else await printValue(() => '', made, g.format);
    });
  token
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--role <role>', 'only this role')
    .option('--revoked <bool>', 'true: only revoked; false: only live')
    .action(async (...args: unknown[]) => {
      const g = await globals(commandOf(args));
      const items = await listAll(g.target, '/v1/tokens', {
        role: g.opts.role as string | undefined,
        revoked: g.opts.revoked as string | undefined,
      });
      await printList(items, KINDS.tokens?.columns ?? [], g.format);
    });
  token
    .command('revoke')
    .description('revoke a token by id or name: effective on its next request')
    .argument('<token>', 'id or name')
    .option('--reason <text>', 'recorded in the audit log')
    .action(async (which: string, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      let id = /^\d+$/.test(which) ? which : undefined;
      if (!id) {
        const all = await listAll<{ id: number; name: string }>(g.target, '/v1/tokens');
        const found = all.find((t) => t.name === which);
        if (!found) throw new CliError('NOT_FOUND', `no token named "${which}"`);
        id = String(found.id);
      }
      const { body } = await call<Record<string, unknown>>(
        g.target,
        'DELETE',
        `/v1/tokens/${id}`,
        g.opts.reason ? { reason: g.opts.reason } : undefined,
      );
      await printValue(() => `token ${id} revoked\n`, body, g.format);
    });
  token
    .command('bootstrap')
    .description(
      'create the first token directly in the database (no API needed; not while catchment start holds PGlite)',
    )
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <name>', 'unique name of the token (default: <role>-<timestamp>)')
    .option('--scope <consumer>', 'agent tokens: the edge or DNS server it may report for')
    .option('--expires <iso-date>', 'expiry, e.g. 2027-01-01T00:00:00Z')
    .action(async (...args: unknown[]) => {
      const o = commandOf(args).opts() as { role: string; name?: string; scope?: string; expires?: string };
      if (!ROLES.includes(o.role)) throw new CliError('USAGE', `--role must be one of ${ROLES.join(', ')}`);
      const expiresAt = o.expires ? new Date(expiry(o.expires) as string) : null;
      const { bootstrapToken } = await import('./bootstrap.ts');
      const made = await bootstrapToken({ ...o, expiresAt });
      process.stderr.write(`token "${made.info.name}" (${made.info.role}) created; it is shown only now:\n`);
      process.stdout.write(`${made.token}\n`);
    });
}
