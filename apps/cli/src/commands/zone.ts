import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { call } from '../client/http.ts';
import { renderData } from '../output/format.ts';
import { commandOf, globals } from './common.ts';

export function zoneCommands(program: Command): void {
  const zone = program
    .command('zone')
    .description('BIND-style zone files (RFC 1035 master format) to and from configuration');
  zone
    .command('import')
    .description('turn a zone file into the zone of a configuration file (YAML), for plan/apply')
    .argument('<zone-file>')
    .option('--origin <name>', 'the zone name, for files without $ORIGIN')
    .option('--skip-unsupported', 'skip record types Catchment does not serve (DNSSEC, ...) instead of failing')
    .option('-f, --file <file>', 'write the configuration here (default: standard output)')
    .action(async (file: string, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      const o = g.opts as { origin?: string; skipUnsupported?: boolean; file?: string };
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new CliError(
          'CONFIG_UNREADABLE',
          `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      const { parseZoneFile } = await import('../zone/zonefile.ts');
      let parsed: ReturnType<typeof parseZoneFile>;
      try {
        parsed = parseZoneFile(text, { origin: o.origin, skipUnsupported: o.skipUnsupported });
      } catch (err) {
        if (err instanceof CliError) throw new CliError(err.code, `${file}: ${err.message}`, { lines: err.lines });
        throw err;
      }
      for (const s of parsed.skipped) process.stderr.write(`catchment: skipped ${s} (not served)\n`);
      const out = await renderData({ zones: [parsed.zone] }, g.format === 'json' ? 'json' : 'yaml');
      if (o.file) writeFileSync(o.file, out);
      else process.stdout.write(out);
      process.stderr.write(
        `zone ${parsed.zone.name}: ${parsed.zone.records.length} record(s), ${parsed.zone.ns.length} NS\n`,
      );
    });
  zone
    .command('export')
    .description('write a zone of the running configuration as a zone file')
    .argument('<zone>')
    .option('-f, --file <file>', 'write it here (default: standard output)')
    .action(async (name: string, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      // The zone as configuration (with its records), from the same export as `catchment export`.
      const { body } = await call<{ zones: { name: string }[] }>(g.target, 'GET', '/v1/config');
      const wanted = name.toLowerCase().replace(/\.$/, '');
      const found = body.zones.find((z) => z.name === wanted);
      if (!found) throw new CliError('NOT_FOUND', `zone "${name}" does not exist`);
      const { formatZoneFile } = await import('../zone/zonefile.ts');
      const text = formatZoneFile(found as Parameters<typeof formatZoneFile>[0]);
      if (g.opts.file) writeFileSync(String(g.opts.file), text);
      else process.stdout.write(text);
    });
}
