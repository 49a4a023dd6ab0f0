import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { call, enc } from '../client/http.ts';
import { printValue } from '../output/format.ts';
import type { Row } from '../output/table.ts';
import { actionText } from './actions.ts';
import { commandOf, globals } from './common.ts';

/**
 * `pin <cidr|country> <edge>` and `unpin <action-id|cidr|country>`: pinned answers through
 * /v1/pins. The API validates (host bits, known country, the edge answers for the name);
 * here only the shape of the target decides between a client prefix and a country.
 */
export function pinTarget(text: string): { cidr: string } | { country: string } {
  if (/^[A-Za-z]{2}$/.test(text)) return { country: text.toUpperCase() };
  if (text.includes('/')) return { cidr: text };
  // A bare address pins that one host.
  if (/^[0-9.]+$/.test(text)) return { cidr: `${text}/32` };
  if (text.includes(':')) return { cidr: `${text}/128` };
  throw new CliError('USAGE', `"${text}" is neither a client prefix (CIDR) nor a country code (two letters)`);
}

export function pinCommands(program: Command): void {
  program
    .command('pin')
    .description('pin clients (a prefix or a country) to an edge: beats automation, shown in explain')
    .argument('<cidr|country>', 'client prefix (ECS source or resolver address), or ISO country code')
    .argument('<edge>', 'the edge they get')
    .option('--name <service>', 'only for this service (default: every service the edge answers)')
    .requiredOption('--reason <text>', 'why (recorded in the audit log, shown in explain)')
    .option('--ttl <duration>', 'expire the pin after this long, e.g. 30m, 4h')
    .option('--dry-run', 'print the snapshot diff and the safety verdict, change nothing')
    .option('--force', 'override a safety refusal (the override is audited)')
    .option('--idempotency-key <key>', 'retrying with the same key returns the first pin')
    .action(async (target: string, edge: string, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      const o = g.opts;
      const body: Row = { edge, ...pinTarget(target), reason: o.reason };
      if (o.name) body.name = o.name;
      if (o.ttl) body.ttl = o.ttl;
      if (o.force) body.force = true;
      if (o.dryRun) body.dryRun = true;
      const headers: Record<string, string> = {};
      if (o.idempotencyKey) headers['idempotency-key'] = String(o.idempotencyKey);
      const { body: res } = await call<Row>(g.target, 'POST', '/v1/pins', body, { headers });
      await printValue(() => actionText('pin', res), res, g.format);
    });

  program
    .command('unpin')
    .description('remove a pin, by its action id or by the prefix or country it pins')
    .argument('<action-id|cidr|country>')
    .option('--name <service>', 'the pin of this service, when one prefix is pinned for several')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .option('--dry-run', 'print the snapshot diff, change nothing')
    .action(async (which: string, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      const o = g.opts;
      let id = /^\d+$/.test(which) ? Number(which) : undefined;
      if (id === undefined) {
        const want = pinTarget(which);
        const { body: page } = await call<{ items: Row[] }>(g.target, 'GET', '/v1/pins?active=true&limit=500');
        const same = page.items.filter((a) => {
          const p = a.params as Row;
          const cidr = 'cidr' in want ? want.cidr : undefined;
          const country = 'country' in want ? want.country : undefined;
          return (
            (cidr ? p.cidr === cidr || samePrefix(p.cidr, cidr) : p.country === country) &&
            (o.name === undefined || p.name === o.name)
          );
        });
        if (same.length === 0) throw new CliError('NOT_FOUND', `no active pin of ${which}`);
        if (same.length > 1)
          throw new CliError(
            'USAGE',
            `${which} is pinned by actions ${same.map((a) => a.id).join(', ')} (for different names): give the id or --name`,
          );
        id = Number(same[0]!.id);
      }
      const body: Row = { reason: o.reason };
      if (o.dryRun) body.dryRun = true;
      const { body: res } = await call<Row>(g.target, 'DELETE', `/v1/pins/${enc(String(id))}`, body);
      await printValue(() => actionText('unpin', res), res, g.format);
    });
}

/** 2001:DB8::/32 and 2001:db8::/32 alike (the API stores the canonical text). */
function samePrefix(a: unknown, b: string): boolean {
  return typeof a === 'string' && a.toLowerCase() === b.toLowerCase();
}
