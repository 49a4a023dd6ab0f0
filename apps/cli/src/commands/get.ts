import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { call, enc, listAll } from '../client/http.ts';
import { printList } from '../output/format.ts';
import { commandOf, globals } from './common.ts';
import { KINDS, kindOf } from './kinds.ts';

const FILTERS = [...new Set(Object.values(KINDS).flatMap((k) => k.filters))];
const flagOf = (f: string) => f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function getCommand(program: Command): void {
  const cmd = program
    .command('get')
    .description(`list objects: ${Object.keys(KINDS).join(', ')}`)
    .argument('<kind>', 'what to list (singular or plural)')
    .argument('[name]', 'one object by name (or id, or CIDR)')
    .option('--limit <n>', 'at most this many objects', '1000');
  for (const f of FILTERS) cmd.option(`--${flagOf(f)} <value>`, `filter by ${f} (where the kind has it)`);
  cmd.action(async (kind: string, name: string | undefined, ...rest: unknown[]) => {
    const g = await globals(commandOf(rest));
    const found = kindOf(kind);
    if (!found) throw new CliError('USAGE', `unknown kind "${kind}"; one of ${Object.keys(KINDS).join(', ')}`);
    const [k, spec] = found;
    if (name !== undefined) {
      if (!spec.one) throw new CliError('USAGE', `get ${k} takes no name; use filters`);
      const { body } = await call<Record<string, unknown>>(g.target, 'GET', spec.one.replace('{}', enc(name)));
      return printList([body], spec.columns, g.format, body);
    }
    const query: Record<string, string | undefined> = {};
    for (const f of FILTERS) {
      const v = g.opts[f] as string | undefined;
      if (v === undefined) continue;
      if (!spec.filters.includes(f))
        throw new CliError(
          'USAGE',
          `get ${k} has no filter --${flagOf(f)}; it takes ${spec.filters.map((x) => `--${flagOf(x)}`).join(', ') || 'none'}`,
        );
      query[f] = v;
    }
    const limit = Number(g.opts.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new CliError('USAGE', '--limit must be a positive integer');
    const items = await listAll<Record<string, unknown>>(g.target, spec.path, query, limit);
    await printList(items, spec.columns, g.format);
  });
}
