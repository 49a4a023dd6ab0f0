import type { Command } from 'commander';

export function simulateCommand(program: Command): void {
  program
    .command('simulate <scenario>')
    .description(
      'what-if: run a scenario (clients, resolvers, routing, events) through the real compiler, DNS tables and controller, and compare strategies',
    )
    .option('--json', 'print the results as JSON (for scripts)')
    .option('--series', 'with --json: include every edge load per second')
    .option('--svg <file>', 'write a plot of load per edge over time, steps marked')
    .option('--strategies <list>', "comma-separated strategies (default: the scenario's)")
    .action(async (scenario: string, opts: { json?: boolean; series?: boolean; svg?: string; strategies?: string }) => {
      // Loaded on use: the simulator pulls in the database, GeoIP and controller modules.
      const { runSimulate } = await import('../simulate/run.ts');
      await runSimulate(scenario, opts);
    });
}
