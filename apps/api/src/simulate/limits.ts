import { CatchmentError } from '@catchment/core';
import { DEFAULTS, type ScenarioModel } from '@catchment/sim';

/**
 * How large a scenario this API simulates: a run takes a core of the API's machine for its
 * whole length (mostly the controller), so requests over HTTP are bounded; `catchment simulate`
 * on a file is not.
 */
export interface SimulateLimits {
  /** Simulated seconds of one run (default 2 h). */
  durationS: number;
  /** Simulated seconds of every strategy together (default 6 h). */
  totalS: number;
  /** Client blocks (default 50 000). */
  blocks: number;
  /** ISP resolvers, per country times countries (default 10 000). */
  resolvers: number;
  /** Wall-clock seconds a run may take before it is stopped: 504 SIMULATION_TIMEOUT (default 20 min). */
  wallClockS: number;
  /**
   * JavaScript heap of a run's worker thread, MB (`resourceLimits.maxOldGenerationSizeMb`);
   * past it 413 SIMULATION_OUT_OF_MEMORY (default 1024). In-process runners are not bounded.
   */
  memoryMb: number;
}

export const DEFAULT_SIMULATE_LIMITS: SimulateLimits = {
  durationS: 2 * 3600,
  totalS: 6 * 3600,
  blocks: 50_000,
  resolvers: 10_000,
  wallClockS: 20 * 60,
  memoryMb: 1024,
};

/** Client blocks as the population builds them: a country's `blocks` (default 100), a CIDR one. */
function blocksOf(model: ScenarioModel): number {
  return model.clients.reduce((n, c) => n + ('cidr' in c ? 1 : (c.blocks ?? DEFAULTS.blocksPerCountry)), 0);
}

/** Refuses a scenario over the limits, every reason on one line. */
export function checkLimits(model: ScenarioModel, limits: SimulateLimits): void {
  const countries = new Set(model.clients.map((c) => c.country).filter(Boolean)).size;
  const total = model.durationS * model.strategies.length;
  const blocks = blocksOf(model);
  const resolvers = model.ispPerCountry * countries;
  const reasons = [
    model.durationS > limits.durationS ? `duration ${model.durationS} s > ${limits.durationS} s` : '',
    total > limits.totalS
      ? `${model.strategies.length} strategies × ${model.durationS} s = ${total} s > ${limits.totalS} s`
      : '',
    blocks > limits.blocks ? `${blocks} client blocks > ${limits.blocks}` : '',
    resolvers > limits.resolvers ? `${resolvers} ISP resolvers > ${limits.resolvers}` : '',
  ].filter(Boolean);
  if (reasons.length > 0)
    throw new CatchmentError(
      'SIMULATION_TOO_LARGE',
      `this API simulates smaller scenarios: ${reasons.join('; ')} (run \`catchment simulate\` on a file for larger ones)`,
      { details: { limits, scenario: { durationS: model.durationS, totalS: total, blocks, resolvers } } },
    );
}
