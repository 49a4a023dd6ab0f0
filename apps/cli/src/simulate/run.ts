import { writeFile } from 'node:fs/promises';
import { CatchmentError } from '@catchment/core';
import {
  loadScenarioFile,
  loadSvg,
  resultJson,
  STRATEGIES,
  type StrategyName,
  simulate,
  strategyTable,
} from '@catchment/sim';
import { controllerDrivers } from './controller-driver.ts';

export interface SimulateCliOptions {
  json?: boolean;
  series?: boolean;
  svg?: string;
  strategies?: string;
}

/** `catchment simulate`: every strategy of the scenario, then the table (or JSON) and the plot. */
export async function runSimulate(path: string, opts: SimulateCliOptions): Promise<void> {
  const model = await loadScenarioFile(path);
  if (opts.strategies) {
    const list = opts.strategies.split(',').map((s) => s.trim());
    const unknown = list.filter((s) => !(STRATEGIES as readonly string[]).includes(s));
    if (unknown.length > 0)
      throw new CatchmentError(
        'SCENARIO_INVALID',
        `unknown strategy ${unknown.join(', ')} (one of ${STRATEGIES.join(', ')})`,
      );
    model.strategies = list as StrategyName[];
  }
  const started = performance.now();
  const result = await simulate(model, {
    drivers: controllerDrivers,
    onRun: (r) => {
      if (!opts.json) process.stderr.write(`simulated ${r.strategy} (${Math.round(performance.now() - started)} ms)\n`);
    },
  });
  if (opts.svg) await writeFile(opts.svg, loadSvg(result.runs));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(resultJson(result, { series: opts.series === true }), null, 2)}\n`);
    return;
  }
  const s = result.scenario;
  process.stdout.write(
    `${s.blocks} client blocks, ${s.resolvers} resolvers, ${s.entries} cache entries, ${s.durationS} s of ${s.service}\n\n`,
  );
  process.stdout.write(`${strategyTable(result)}\n`);
  for (const r of result.runs) {
    if (r.steps.length === 0) continue;
    process.stdout.write(`\n${r.strategy}: ${r.steps.map((x) => `${x.t} s ${x.text}`).join('; ')}\n`);
  }
  if (opts.svg) process.stdout.write(`\nplot: ${opts.svg}\n`);
}
