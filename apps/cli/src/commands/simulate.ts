import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { commandOf, globals } from './common.ts';

interface SimulateFlags {
  json?: boolean;
  series?: boolean;
  svg?: string;
  strategies?: string;
  fromNow?: boolean;
  playbook?: string;
  edge?: string;
  duration?: string;
}

export function simulateCommand(program: Command): void {
  program
    .command('simulate [scenario]')
    .description(
      'what-if: run a scenario (clients, resolvers, routing, events) through the real compiler, DNS tables and controller, and compare strategies; or, with --from-now, a playbook from the present of the installation (through the API)',
    )
    .option('--json', 'print the results as JSON (for scripts)')
    .option('--series', 'with --json: include every edge load per second')
    .option('--svg <file>', 'write a plot of load per edge over time, steps marked')
    .option('--strategies <list>', "comma-separated strategies (default: the scenario's)")
    .option('--from-now', 'start from the current world (configuration, loads, actions in force), run by the API')
    .option('--playbook <name>', 'with --from-now: the playbook to run')
    .option('--edge <edge>', 'with --from-now: the edge it acts on')
    .option('--duration <duration>', 'with --from-now: how long to simulate (default 1h)')
    .action(async (scenario: string | undefined, opts: SimulateFlags, ...rest: unknown[]) => {
      if (opts.fromNow) {
        if (scenario) throw new CliError('USAGE', '--from-now builds its scenario from the present: give no file');
        if (opts.svg || opts.strategies)
          throw new CliError('USAGE', '--svg and --strategies are for a scenario file, not --from-now');
        const g = await globals(commandOf(rest));
        const { runFromNow } = await import('../simulate/from-now.ts');
        await runFromNow(g.target, { ...opts, json: opts.json === true || g.format === 'json' });
        return;
      }
      if (!scenario) throw new CliError('USAGE', 'simulate needs a scenario file, or --from-now');
      if (opts.playbook || opts.edge || opts.duration)
        throw new CliError('USAGE', '--playbook, --edge and --duration go with --from-now');
      // Loaded on use: the simulator pulls in the database, GeoIP and controller modules.
      const { runSimulate } = await import('../simulate/run.ts');
      await runSimulate(scenario, opts);
    });
}
