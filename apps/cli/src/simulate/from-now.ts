import { resultText, type SimulationJson } from '@catchment/sim/report';
import { CliError } from '../client/errors.ts';
import { call } from '../client/http.ts';
import type { Target } from '../client/target.ts';

export interface FromNowCliOptions {
  playbook?: string;
  edge?: string;
  duration?: string;
  json?: boolean;
  series?: boolean;
}

/** The API answers when the simulation is done: minutes for a large world on a busy machine. */
const SIMULATE_TIMEOUT_MS = 30 * 60_000;

/**
 * `catchment simulate --from-now`: the API builds the scenario from the installation's
 * present (POST /v1/simulate with `fromNow`) and runs it; printed like a local run.
 */
export async function runFromNow(target: Target, opts: FromNowCliOptions): Promise<void> {
  if (!opts.playbook || !opts.edge) throw new CliError('USAGE', '--from-now needs --playbook <name> and --edge <edge>');
  const fromNow = { playbook: opts.playbook, edge: opts.edge, ...(opts.duration ? { duration: opts.duration } : {}) };
  const { body } = await call<SimulationJson & { fromNow?: { playbook: string; edge: string; at: string } }>(
    target,
    'POST',
    `/v1/simulate${opts.series ? '?series=true' : ''}`,
    { fromNow },
    { timeoutMs: SIMULATE_TIMEOUT_MS },
  );
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  const f = body.fromNow;
  if (f) process.stdout.write(`playbook ${f.playbook} on ${f.edge}, from the present at ${f.at}\n`);
  process.stdout.write(resultText(body));
}
