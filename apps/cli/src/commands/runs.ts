import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { call } from '../client/http.ts';
import { printValue, renderData } from '../output/format.ts';
import type { Row } from '../output/table.ts';
import { commandOf, globals } from './common.ts';

/** Runs that ended (packages/core runs.ts: everything not in OPEN_RUN_STATES). */
const ENDED = new Set(['resolved', 'aborted']);

const runId = (id: string) => {
  if (!/^\d+$/.test(id)) throw new CliError('USAGE', `run id must be a number (got "${id}")`);
  return id;
};

function runLine(r: Row): string {
  const step = (r.steps as Row[] | undefined)?.filter((s) => s.position === r.currentStep).at(-1);
  return `run ${r.id} ${r.playbook}${r.edge ? ` on ${r.edge}` : ''}: ${r.state}, step ${r.currentStep}${step ? ` ${step.kind} (${step.state})` : ''}${r.error ? `, error: ${r.error}` : ''}`;
}

export function runCommands(program: Command): void {
  const runs = program.command('runs').description('playbook runs: approve, reject, abort, watch');
  for (const [verb, what] of [
    ['approve', 'approve the step a run waits on'],
    ['reject', 'reject the step a run waits on (it is skipped)'],
    ['abort', 'abort a run and revert its actions'],
  ] as const) {
    runs
      .command(verb)
      .description(what)
      .argument('<id>')
      .requiredOption('--reason <text>', 'why (recorded in the audit log)')
      .action(async (id: string, ...rest: unknown[]) => {
        const g = await globals(commandOf(rest));
        const { body } = await call<Row>(g.target, 'POST', `/v1/runs/${runId(id)}/${verb}`, { reason: g.opts.reason });
        const run = (body.run ?? body) as Row;
        await printValue(() => `${verb}: ${runLine(run)}\n`, body, g.format);
      });
  }
  runs
    .command('watch')
    .description('follow a run live until it ends (or --timeout)')
    .argument('<id>')
    .option('--interval <seconds>', 'poll interval', '1')
    .option('--timeout <seconds>', 'give up after this long (exit 3)', '3600')
    .action(async (id: string, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      const interval = Math.max(0.2, Number(g.opts.interval) || 1) * 1000;
      const end = Date.now() + Math.max(1, Number(g.opts.timeout) || 3600) * 1000;
      let last = '';
      // Bounded by --timeout.
      while (true) {
        const { body: run } = await call<Row>(g.target, 'GET', `/v1/runs/${runId(id)}`);
        const steps = (run.steps ?? []) as Row[];
        const sig = JSON.stringify([run.state, run.currentStep, steps.map((s) => [s.state, s.endedAt])]);
        if (sig !== last) {
          last = sig;
          if (g.format === 'table') {
            const time = new Date().toISOString().slice(11, 19);
            process.stdout.write(`${time}  ${runLine(run)}\n`);
            const waiting = steps.find((s) => s.state === 'awaiting-approval');
            if (waiting)
              process.stdout.write(
                `          waiting for approval: catchment runs approve ${run.id} --reason ... (or reject)\n`,
              );
          } else
            process.stdout.write(
              g.format === 'json' ? `${JSON.stringify(run)}\n` : `---\n${await renderData(run, 'yaml')}`,
            );
        }
        if (ENDED.has(run.state)) return;
        if (Date.now() > end)
          throw new CliError('WATCH_TIMEOUT', `run ${id} still ${run.state} after ${g.opts.timeout} s`, {
            exitCode: 3,
          });
        await new Promise((r) => setTimeout(r, interval));
      }
    });
}
