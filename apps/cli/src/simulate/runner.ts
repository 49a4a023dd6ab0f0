import type { GeoDb } from '@catchment/geo';
import { type SimulationRunner, simulate } from '@catchment/sim';
import { controllerDrivers } from './controller-driver.ts';

/**
 * The simulator with the real controller: what `catchment simulate <file>` runs and what
 * `catchment start` hands the API for POST /v1/simulate, so both give the same result.
 * `geo`: the GeoIP database in use (default: the embedded one, opened per run).
 */
export function simulationRunner(geo?: GeoDb): SimulationRunner {
  return (model, opts) => simulate(model, { drivers: controllerDrivers, ...(geo ? { geo } : {}), ...opts });
}
