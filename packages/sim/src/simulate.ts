import { type CatchmentConfig, CatchmentError, loadConfigFile, normaliseConfig } from '@catchment/core';
import { GeoDb, type GeoOptions, SteeringBuilder } from '@catchment/geo';
import type { Driver } from './driver.ts';
import { type RunResult, runStrategy } from './engine.ts';
import { buildPopulation, type Population } from './population.ts';
import type { ScenarioModel, StrategyName } from './scenario.ts';
import { ScriptedDriver } from './scripted.ts';
import { strategyConfig } from './strategies.ts';

/** Builds the driver of one strategy from the configuration it runs with. */
export type DriverFactory = (strategy: StrategyName, config: CatchmentConfig, model: ScenarioModel) => Promise<Driver>;

export interface SimulationResult {
  scenario: {
    configPath: string;
    service: string;
    durationS: number;
    blocks: number;
    resolvers: number;
    entries: number;
  };
  runs: RunResult[];
}

/** The drivers the package has itself: nothing, or the scripted actions. */
export const scriptedDrivers: DriverFactory = async (strategy, config, model) => {
  const standing = model.fromNow?.actions ?? [];
  if (strategy === 'none') return new ScriptedDriver(normaliseConfig(config), [], standing);
  if (strategy === 'scripted') return new ScriptedDriver(normaliseConfig(config), model.actions, standing);
  throw new CatchmentError(
    'SCENARIO_INVALID',
    `strategy ${strategy} runs the controller's playbooks: run it with \`catchment simulate\`, which assembles the controller`,
  );
};

/**
 * A scenario run with the real controller, as the CLI assembles it (apps never import apps):
 * what `catchment start` hands the API for `POST /v1/simulate`.
 */
export type SimulationRunner = (
  model: ScenarioModel,
  opts: { config?: CatchmentConfig; onRun?: (run: RunResult) => void },
) => Promise<SimulationResult>;

export interface SimulateOptions {
  drivers?: DriverFactory;
  /** The configuration to run (the API's current one); default: the file the scenario names. */
  config?: CatchmentConfig;
  geo?: GeoDb | GeoOptions;
  /** Called after each strategy (progress output). */
  onRun?: (run: RunResult) => void;
}

export async function simulate(model: ScenarioModel, opts: SimulateOptions = {}): Promise<SimulationResult> {
  const config = opts.config ?? (await loadConfigFile(model.configPath));
  const service = model.service ?? config.services?.[0]?.name;
  if (!service || !(config.services ?? []).some((s) => s.name === service))
    throw new CatchmentError('SCENARIO_INVALID', `the configuration has no service ${model.service ?? ''}`.trim());
  for (const name of [...model.edgeCapacity.keys(), ...model.events.flatMap((e) => (e.edge ? [e.edge] : []))]) {
    if (!(config.edges ?? []).some((e) => e.name === name))
      throw new CatchmentError('SCENARIO_INVALID', `the configuration has no edge ${name}`);
  }
  // The scenario's own GeoIP file (a lab's, a test's) unless the caller hands one in.
  const geoOpts = opts.geo ?? (model.geoipCity ? { city: model.geoipCity } : {});
  const geo = geoOpts instanceof GeoDb ? geoOpts : new GeoDb({ watch: false, ...geoOpts });
  try {
    const pop: Population = buildPopulation(model, geo);
    const drivers = opts.drivers ?? scriptedDrivers;
    const runs: RunResult[] = [];
    // One builder for every strategy: the geo tries are built once (the result is the same as fresh).
    const builder = new SteeringBuilder();
    for (const strategy of model.strategies) {
      const cfg = strategyConfig(config, model, strategy);
      const run = await runStrategy(strategy, model, geo, pop, service, await drivers(strategy, cfg, model), builder);
      opts.onRun?.(run);
      runs.push(run);
    }
    return {
      scenario: {
        configPath: model.configPath,
        service,
        durationS: model.durationS,
        blocks: pop.blockAddr.length,
        resolvers: pop.resolvers.length,
        entries: pop.entryBlock.length,
      },
      runs,
    };
  } finally {
    if (!(opts.geo instanceof GeoDb)) geo.close();
  }
}
