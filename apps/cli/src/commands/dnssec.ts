import { CatchmentError, createLogger, loadKek } from '@catchment/core';
import { advanceRollover, type Database, dnssecStatus, publishSnapshot, startRollover } from '@catchment/db';
import type { Command } from 'commander';
import { openMigrated } from '../database.ts';

const actor = () => `cli:${process.env.USER ?? 'root'}`;

async function withDb<T>(fn: (database: Database) => Promise<T>): Promise<T> {
  const database = await openMigrated(createLogger('catchment-dnssec', { stderr: true }));
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

function printStatus(s: Awaited<ReturnType<typeof dnssecStatus>>): void {
  const out: string[] = [`zone ${s.zone}: ${s.enabled ? 'signed' : 'unsigned'}${s.pending ? ` (${s.pending})` : ''}`];
  for (const k of s.keys) out.push(`  key ${k.tag} ${k.role} ${k.algorithm} ${k.state}${k.ds ? ' ds' : ''}`);
  for (const r of s.rollovers.filter((x) => !x.finishedAt)) {
    out.push(`  rollover ${r.id} ${r.kind}: ${r.step}, next step at ${r.nextStepAt ?? '-'}`);
  }
  out.push('DS for the parent:', ...s.ds.map((d) => `  ${d}`));
  process.stdout.write(`${out.join('\n')}\n`);
}

/** `catchment dnssec ...`: keys, DS and rollovers, straight on the database (like import/export). */
export function dnssecCommands(program: Command): void {
  const dnssec = program.command('dnssec').description('DNSSEC keys, DS records and rollovers of a zone');
  dnssec
    .command('show <zone>')
    .description("a zone's keys, open rollovers and the DS records to give the parent")
    .action((zone: string) => withDb(async (d) => printStatus(await dnssecStatus(d.db, zone))));
  dnssec
    .command('ds <zone>')
    .description('only the DS records, one per line')
    .action((zone: string) =>
      withDb(async (d) => {
        process.stdout.write((await dnssecStatus(d.db, zone)).ds.map((x) => `${x}\n`).join(''));
      }),
    );
  dnssec
    .command('rollover <zone>')
    .description('start a rollover: --kind zsk (pre-publish) or ksk (double signature)')
    .requiredOption('--kind <kind>', 'zsk or ksk')
    .action((zone: string, opts: { kind: string }) => {
      if (opts.kind !== 'zsk' && opts.kind !== 'ksk') {
        throw new CatchmentError('VALIDATION_FAILED', '--kind must be zsk or ksk');
      }
      return withDb(async (d) => {
        await startRollover(d.db, zone, opts.kind as 'zsk' | 'ksk', { kek: loadKek(), actor: actor() });
        await publishSnapshot(d.db, { actor: actor() });
        printStatus(await dnssecStatus(d.db, zone));
      });
    });
  dnssec
    .command('advance <zone> <id>')
    .description("take a rollover's next step (refused before its waiting time unless --force)")
    .option('--force', 'do not wait (recorded as forced in the audit log)')
    .action((zone: string, id: string, opts: { force?: boolean }) =>
      withDb(async (d) => {
        await advanceRollover(d.db, zone, Number(id), { actor: actor(), force: !!opts.force });
        await publishSnapshot(d.db, { actor: actor() });
        printStatus(await dnssecStatus(d.db, zone));
      }),
    );
}
