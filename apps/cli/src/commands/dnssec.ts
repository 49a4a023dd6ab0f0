import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { call } from '../client/http.ts';
import { printValue } from '../output/format.ts';
import { commandOf, globals } from './common.ts';

/** `GET /v1/zones/{zone}/dnssec`, the part the CLI prints. */
interface DnssecStatus {
  zone: string;
  enabled: boolean;
  pending?: string;
  keys: { tag: number; role: string; algorithm: number; state: string; ds?: boolean }[];
  ds: string[];
  rollovers: { id: number; kind: string; step: string; nextStepAt?: string | null; finishedAt?: string | null }[];
}

function statusText(s: DnssecStatus): string {
  const out: string[] = [`zone ${s.zone}: ${s.enabled ? 'signed' : 'unsigned'}${s.pending ? ` (${s.pending})` : ''}`];
  for (const k of s.keys) out.push(`  key ${k.tag} ${k.role} ${k.algorithm} ${k.state}${k.ds ? ' ds' : ''}`);
  for (const r of s.rollovers.filter((x) => !x.finishedAt)) {
    out.push(`  rollover ${r.id} ${r.kind}: ${r.step}, next step at ${r.nextStepAt ?? '-'}`);
  }
  out.push('DS for the parent:', ...s.ds.map((d) => `  ${d}`));
  return `${out.join('\n')}\n`;
}

const statusPath = (zone: string) => `/v1/zones/${encodeURIComponent(zone)}/dnssec`;

/**
 * `catchment dnssec ...`: keys, DS and rollovers through the API (GET /v1/zones/{zone}/dnssec,
 * POST .../rollovers, POST .../rollovers/{id}/advance), so they work against a running
 * `catchment start` (which holds the embedded database) and are authorised and audited as API
 * calls. The API holds the key-encryption key; the CLI never needs it.
 */
export function dnssecCommands(program: Command): void {
  const dnssec = program.command('dnssec').description('DNSSEC keys, DS records and rollovers of a zone');
  dnssec
    .command('show <zone>')
    .description("a zone's keys, open rollovers and the DS records to give the parent")
    .action(async (zone: string, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      const { body } = await call<DnssecStatus>(g.target, 'GET', statusPath(zone));
      await printValue(() => statusText(body), body, g.format);
    });
  dnssec
    .command('ds <zone>')
    .description('only the DS records, one per line')
    .action(async (zone: string, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      const { body } = await call<DnssecStatus>(g.target, 'GET', statusPath(zone));
      await printValue(() => body.ds.map((x) => `${x}\n`).join(''), body.ds, g.format);
    });
  dnssec
    .command('rollover <zone>')
    .description('start a rollover: --kind zsk (pre-publish) or ksk (double signature; on a CSK zone, the CSK)')
    .requiredOption('--kind <kind>', 'zsk or ksk')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(async (zone: string, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      const kind = g.opts.kind;
      if (kind !== 'zsk' && kind !== 'ksk') throw new CliError('USAGE', `--kind must be zsk or ksk (got "${kind}")`);
      const { body } = await call<DnssecStatus>(g.target, 'POST', `${statusPath(zone)}/rollovers`, {
        kind,
        ...(g.opts.reason ? { reason: String(g.opts.reason) } : {}),
      });
      await printValue(() => statusText(body), body, g.format);
    });
  dnssec
    .command('advance <zone> <id>')
    .description("take a rollover's next step (refused before its waiting time unless --force)")
    .option('--force', 'do not wait (recorded as forced in the audit log)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(async (zone: string, id: string, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      if (!/^[1-9]\d{0,9}$/.test(id)) throw new CliError('USAGE', `the rollover id must be a number (got "${id}")`);
      const { body } = await call<DnssecStatus>(g.target, 'POST', `${statusPath(zone)}/rollovers/${id}/advance`, {
        force: g.opts.force === true,
        ...(g.opts.reason ? { reason: String(g.opts.reason) } : {}),
      });
      await printValue(() => statusText(body), body, g.format);
    });
}
