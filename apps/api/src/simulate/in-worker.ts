import { Worker } from 'node:worker_threads';
import { type CatchmentConfig, CatchmentError, ErrorCodes } from '@catchment/core';
import type { ScenarioModel, SimulationResult, SimulationRunner } from '@catchment/sim';
import type { ErrorMessage, ProgressMessage, SimulationWorkerData, WorkerMessage } from './protocol.ts';

/**
 * Where POST /v1/simulate runs its simulations: a worker thread per run, started from `entry`,
 * a module that calls `serveSimulation` (`@catchment/api/simulate-worker`) with its runner.
 * The CLI provides it (`catchment start`: the real controller), so the API never imports it.
 */
export interface SimulationWorker {
  entry: URL | string;
  /** Handed to the entry as is (structured clone): what it needs to assemble its runner. */
  setup?: unknown;
}

/** What a run is given: the configuration, a signal that ends it, and a progress callback. */
export interface RunControl {
  config?: CatchmentConfig;
  signal?: AbortSignal;
  onProgress?: (p: ProgressMessage) => void;
}

/**
 * A simulation runner as the route calls it: in a worker (`workerRunner`), or in-process (a
 * packages/sim `SimulationRunner`: tests, embedding; it cannot be stopped, only waited for).
 */
export type Runner = (model: ScenarioModel, opts: RunControl) => Promise<SimulationResult>;

export const isSimulationWorker = (x: unknown): x is SimulationWorker =>
  typeof x === 'object' && x !== null && 'entry' in x;

/** An in-process runner under the route's contract: progress after each strategy, the signal ignored. */
export function inProcessRunner(run: SimulationRunner): Runner {
  return (model, opts) => {
    const started = performance.now();
    let done = 0;
    return run(model, {
      ...(opts.config ? { config: opts.config } : {}),
      onRun: (r) =>
        opts.onProgress?.({
          kind: 'progress',
          strategy: r.strategy,
          done: ++done,
          of: model.strategies.length,
          elapsedMs: Math.round(performance.now() - started),
        }),
    });
  };
}

function fromMessage(m: ErrorMessage): CatchmentError {
  if (m.code && m.code in ErrorCodes)
    return new CatchmentError(m.code, m.message, {
      errors: m.errors ?? [],
      ...(m.details ? { details: m.details } : {}),
    });
  return new CatchmentError('SIMULATION_FAILED', `the simulation failed: ${m.message}`, {
    ...(m.stack ? { details: { stack: m.stack } } : {}),
  });
}

/**
 * Runs each simulation in its own worker thread, so no part of it holds the API's event loop,
 * with at most `memoryMb` of JavaScript heap (`resourceLimits`). The promise settles once the
 * thread has exited, never before: when it rejects because the signal fired, the thread is gone
 * and its memory with it. A worker out of memory is SIMULATION_OUT_OF_MEMORY, one that throws or
 * exits without a result SIMULATION_FAILED; the API process is never taken down by either.
 */
export function workerRunner(w: SimulationWorker, limits: { memoryMb: number }): Runner {
  return (model, opts) =>
    new Promise<SimulationResult>((resolve, reject) => {
      const { signal } = opts;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const data: SimulationWorkerData = { model, config: opts.config as CatchmentConfig, setup: w.setup };
      const worker = new Worker(w.entry, {
        workerData: data,
        name: 'catchment-simulation',
        resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb },
      });
      let result: SimulationResult | undefined;
      let failure: Error | undefined;
      const stop = () => void worker.terminate();
      signal?.addEventListener('abort', stop, { once: true });
      worker.on('message', (m: WorkerMessage) => {
        if (m.kind === 'progress') opts.onProgress?.(m);
        else if (m.kind === 'result') {
          result = m.result;
          // Whatever the runner left open (a database handle, a timer) goes with the thread.
          stop();
        } else {
          failure = fromMessage(m);
          stop();
        }
      });
      worker.on('error', (err: Error & { code?: string }) => {
        failure =
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new CatchmentError(
                'SIMULATION_OUT_OF_MEMORY',
                `the simulation ran out of memory: it needs more than the ${limits.memoryMb} MB of heap this API allows a simulation; simulate a smaller scenario, or run \`catchment simulate\` on a file`,
                { details: { memoryMb: limits.memoryMb } },
              )
            : new CatchmentError('SIMULATION_FAILED', `the simulation's worker failed: ${err.message}`, {
                ...(err.stack ? { details: { stack: err.stack } } : {}),
              });
      });
      worker.on('exit', (code) => {
        signal?.removeEventListener('abort', stop);
        if (result) resolve(result);
        else if (signal?.aborted) reject(signal.reason);
        else if (failure) reject(failure);
        else
          reject(
            new CatchmentError('SIMULATION_FAILED', `the simulation's worker exited (code ${code}) without a result`),
          );
      });
    });
}
