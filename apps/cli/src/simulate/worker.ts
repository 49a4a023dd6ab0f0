/**
 * The entry of POST /v1/simulate's worker threads (`simulationWorker`, which `catchment start`
 * hands its API): the CLI's runner, the real controller on an in-memory PGlite, on a GeoIP
 * database opened from the same files as the API's.
 */
import { serveSimulation } from '@catchment/api/simulate-worker';
import { GeoDb } from '@catchment/geo';
import type { SimulationWorkerSetup } from './in-worker.ts';
import { simulationRunner } from './runner.ts';

await serveSimulation((setup) => {
  const { geo } = setup as SimulationWorkerSetup;
  // Closed with the thread: the API terminates it after the result.
  return simulationRunner(new GeoDb({ ...geo, watch: false }));
});
