import type { Command } from 'commander';
import { call } from '../client/http.ts';
import { printValue } from '../output/format.ts';
import { cell, type Row, renderFields } from '../output/table.ts';
import { commandOf, globals } from './common.ts';

export function explainCommand(program: Command): void {
  program
    .command('explain')
    .description('the answer DNS gives a client for a name, with the decision trace')
    .argument('<name>', 'query name, e.g. www.example.net')
    .argument('[client]', 'client address or subnet (as ECS carries it)')
    .option('--resolver <ip>', 'resolver address (decides when there is no client subnet)')
    .action(async (name: string, client: string | undefined, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      const q = new URLSearchParams({ name });
      if (client) q.set('client', client);
      if (g.opts.resolver) q.set('resolver', String(g.opts.resolver));
      const { body } = await call<Row>(g.target, 'GET', `/v1/explain?${q}`);
      const d = (body.decision ?? {}) as Row;
      await printValue(
        () => {
          const fields: [string, unknown][] = [
            ['name', body.query?.name],
            ['client', d.client ?? client],
            ['source', d.source],
            ['edge', d.edge],
            ['reason', d.reason],
            ['answer', [...(d.addresses?.v4 ?? []), ...(d.addresses?.v6 ?? [])]],
            ['scope', d.block ? `${d.block} (/${d.scope})` : d.scope],
            ['pinned', d.pin ? pinLine(d.pin as Row) : undefined],
            ['snapshot', `v${body.snapshotVersion}`],
          ];
          const known = new Set([
            'service',
            'client',
            'source',
            'edge',
            'reason',
            'addresses',
            'block',
            'scope',
            'trace',
            'pin',
          ]);
          for (const [k, v] of Object.entries(d)) if (!known.has(k)) fields.push([k, v]);
          const trace = ((d.trace ?? []) as Row[]).map((t, i) => `  ${i + 1}. ${t.step}: ${cell(t.detail)}`);
          return `${renderFields(fields.filter(([, v]) => v !== undefined))}${trace.length ? `trace:\n${trace.join('\n')}\n` : ''}`;
        },
        body,
        g.format,
      );
    });
}

/** "by action 12 (customer X), expires 2026-...": as the trace says it. */
function pinLine(p: Row): string {
  return `by action ${p.action} (${p.reason}), ${p.expiresAt ? `expires ${p.expiresAt}` : 'no expiry'}`;
}
