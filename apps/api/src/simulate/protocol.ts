import type { CatchmentConfig, ErrorCode, FieldError } from '@catchment/core';
import type { ScenarioModel, SimulationResult } from '@catchment/sim';

/**
 * What the API and a simulation's worker thread say to each other. The worker's entry is a
 * module the CLI provides (apps never import apps: the controller is assembled there); it calls
 * `serveSimulation` (simulate-worker.ts, `@catchment/api/simulate-worker`) with its runner.
 */
export interface SimulationWorkerData {
  model: ScenarioModel;
  config: CatchmentConfig;
  /** What the API was given for its workers (`SimulationWorker.setup`): the GeoIP files in use, say. */
  setup: unknown;
}

/** Progress, sent as each strategy's run ends. */
export interface ProgressMessage {
  kind: 'progress';
  strategy: string;
  /** Strategies done, of `of`. */
  done: number;
  of: number;
  /** Since the worker started, ms. */
  elapsedMs: number;
}

export interface ResultMessage {
  kind: 'result';
  result: SimulationResult;
}

/** A failure inside the worker: a catalogue error keeps its code, anything else is `SIMULATION_FAILED`. */
export interface ErrorMessage {
  kind: 'error';
  code?: ErrorCode;
  message: string;
  errors?: FieldError[];
  details?: Record<string, unknown>;
  stack?: string;
}

export type WorkerMessage = ProgressMessage | ResultMessage | ErrorMessage;
