import { Controller } from './controller.ts';
import type { ControllerOptions } from './options.ts';

export { Controller, type TickResult } from './controller.ts';
export { controllerEnvOptions } from './env.ts';
export { AdvisoryLockLeadership, LEADER_LOCK, type Leadership, LocalLeadership } from './leader.ts';
export { type ControllerWorld, loadWorld } from './model.ts';
export { type Notification, Notifier, type NotifyEvent } from './notifier.ts';
export type { ControllerOptions } from './options.ts';
export { type Plan, type Prediction, planStage } from './planner.ts';
export { type Decision, decide, type Memory } from './run-machine.ts';
export { DEFAULT_QUERIES, SloEvaluator } from './slo-evaluator.ts';
export { type Stage, stagesOf } from './stages.ts';

/**
 * Starts a controller replica (for `catchment start` and the standalone main): it
 * competes for leadership, ticks on its node-cron schedule, evaluates SLOs, and serves
 * /metrics, /healthz and /readyz when `http` is given. Stop it with `stop()`.
 */
export async function startController(opts: ControllerOptions): Promise<Controller> {
  const controller = new Controller(opts);
  await controller.start();
  return controller;
}
