import { writeFile } from 'node:fs/promises';
import { CatchmentError } from '@catchment/core';
import {
  catchmentSvg,
  loadScenarioFile,
  loadSvg,
  resultJson,
  resultText,
  STRATEGIES,
  type StrategyName,
} from '@catchment/sim';
import { simulationRunner } from './runner.ts';

export interface SimulateCliOptions {
  json?: boolean;
  series?: boolean;
  svg?: string;
  strategies?: string;
}

/** The catchment map goes next to the load plot: `<name>.svg` → `<name>-catchment.svg`. */
export const catchmentPath = (svg: string) => `${svg.replace(/\.svg$/i, '')}-catchment.svg`;

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
  const result = await simulationRunner()(model, {
    onRun: (r) => {
      if (!opts.json) process.stderr.write(`simulated ${r.strategy} (${Math.round(performance.now() - started)} ms)\n`);
    },
  });
  const mapPath = opts.svg ? catchmentPath(opts.svg) : undefined;
  if (opts.svg && mapPath) {
    await writeFile(opts.svg, loadSvg(result.runs));
    await writeFile(mapPath, catchmentSvg(result.runs));
  }
  const json = resultJson(result, { series: opts.series === true });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return;
  }
  process.stdout.write(resultText(json));
  if (opts.svg) process.stdout.write(`\nplot: ${opts.svg}\ncatchment map: ${mapPath}\n`);
}
