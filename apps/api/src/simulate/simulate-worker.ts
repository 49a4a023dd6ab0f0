import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { isCatchmentError } from '@catchment/core';
import type { SimulationRunner } from '@catchment/sim';
import type { SimulationWorkerData, WorkerMessage } from './protocol.ts';

/**
 * The worker side of POST /v1/simulate (`@catchment/api/simulate-worker`): the entry module a
 * `SimulationWorker` names calls this with the runner it assembles from `setup` (the CLI's: the
 * real controller on PGlite). It runs the one scenario it was started with, reports progress
 * after each strategy and the result (or the error), and lets the thread end. Imports nothing
 * of the API's server.
 */
export async function serveSimulation(
  runnerOf: (setup: unknown) => SimulationRunner | Promise<SimulationRunner>,
): Promise<void> {
  if (isMainThread || !parentPort) throw new Error('serveSimulation runs only in a worker thread');
  const port = parentPort;
  const post = (m: WorkerMessage) => port.postMessage(m);
  const { model, config, setup } = workerData as SimulationWorkerData;
  const started = performance.now();
  let done = 0;
  try {
    const run = await runnerOf(setup);
    const result = await run(model, {
      config,
      onRun: (r) => {
        done++;
        post({
          kind: 'progress',
          strategy: r.strategy,
          done,
          of: model.strategies.length,
          elapsedMs: Math.round(performance.now() - started),
        });
      },
    });
    post({ kind: 'result', result });
  } catch (err) {
    if (isCatchmentError(err))
      post({
        kind: 'error',
        code: err.code,
        message: err.message,
        errors: err.errors,
        ...(err.details ? { details: err.details } : {}),
      });
    else
      post({
        kind: 'error',
        message: err instanceof Error ? err.message : String(err),
        ...(err instanceof Error && err.stack ? { stack: err.stack } : {}),
      });
  }
}
