import type { ObjectiveSlo } from '@catchment/core';
import type { Command } from 'commander';
import { call, enc, listAll } from '../client/http.ts';
import { printList, renderData } from '../output/format.ts';
import { percent, type Row } from '../output/table.ts';
import { commandOf, globals } from './common.ts';

const times = (v: unknown) => (typeof v === 'number' ? `${v.toFixed(2)}x` : '-');

/** `catchment slo ...`: error budgets as the controller evaluates them, and the same conditions as Prometheus rules. */
export function sloCommands(program: Command): void {
  const slo = program.command('slo').description('error budgets and burn rates of SLOs with an objective');
  slo
    .command('budget <name>')
    .description("an SLO's error budget left and burn rate per window, per edge")
    .action(async (name: string, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      const { body } = await call<Row>(g.target, 'GET', `/v1/slos/${enc(name)}/budget`);
      const edges = (body.edges ?? []) as Row[];
      const windows = Object.keys(edges[0]?.windows ?? {});
      await printList(
        edges,
        [
          { header: 'EDGE', get: (r) => r.edge },
          { header: 'BUDGET LEFT', get: (r) => percent(r.budgetRemaining, 1), right: true },
          ...windows.map((w) => ({ header: w, get: (r: Row) => times(r.windows?.[w]?.burnRate), right: true })),
          { header: 'BURNING', get: (r) => (r.firing as Row[]).map((p) => `${p.long}/${p.short} ${p.severity}`) },
        ],
        g.format,
        body,
      );
    });
  slo
    .command('rules [names...]')
    .description('Prometheus recording and alerting rules for the same burn-rate conditions (YAML for rule_files)')
    .action(async (names: string[], ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      const [slos, edges] = await Promise.all([
        listAll<Row>(g.target, '/v1/slos'),
        listAll<Row>(g.target, '/v1/edges'),
      ]);
      // @catchment/core (typebox, pino, prom-client) loads only for this command.
      const { sloRuleGroups } = await import('@catchment/core');
      const wanted = slos.filter((s) => s.objective && (names.length === 0 || names.includes(s.name)));
      const groups = sloRuleGroups(
        wanted.map((s) => ({
          ...(s as ObjectiveSlo),
          edges: s.edge ? [s.edge as string] : edges.map((e) => e.name as string).sort(),
        })),
      );
      process.stdout.write(await renderData(groups, g.format === 'json' ? 'json' : 'yaml'));
    });
}
