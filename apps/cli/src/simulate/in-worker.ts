import type { SimulationWorker } from '@catchment/api';
import type { GeoOptions } from '@catchment/geo';

/** What each worker is started with. */
export interface SimulationWorkerSetup {
  /** The GeoIP files the API uses (each worker opens its own). */
  geo: GeoOptions;
}

/**
 * What `catchment start` hands its API for POST /v1/simulate: the CLI's runner (worker.ts),
 * run by the API in a worker thread per simulation. Imports nothing heavy: the simulator loads
 * in the worker, on the first simulation. From a release's bundle the entry is `worker.mjs`.
 */
export function simulationWorker(geo: GeoOptions = {}): SimulationWorker {
  const file = import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.mjs';
  const { watch: _w, watchIntervalMs: _i, ...files } = geo;
  const setup: SimulationWorkerSetup = { geo: files };
  return { entry: new URL(file, import.meta.url), setup };
}
