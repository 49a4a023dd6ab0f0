import { DEFAULT_PORTS } from '@catchment/core';
import type { ControllerOptions } from './options.ts';

/**
 * The controller's settings from the environment, for every way it is started (its own
 * main and `catchment start`): CATCHMENT_CONTROLLER_NAME, CATCHMENT_PROMETHEUS_URL,
 * CATCHMENT_WEBHOOK_URL, CATCHMENT_CONTROLLER_TICK, CATCHMENT_CONTROLLER_HOST /
 * CATCHMENT_CONTROLLER_PORT (metrics and health, default 127.0.0.1:8454).
 */
export function controllerEnvOptions(
  env: NodeJS.ProcessEnv = process.env,
): Omit<ControllerOptions, 'database' | 'logger'> & { http: { host: string; port: number } } {
  const port = Number(env.CATCHMENT_CONTROLLER_PORT ?? DEFAULT_PORTS.controllerHttp);
  return {
    ...(env.CATCHMENT_CONTROLLER_NAME ? { name: env.CATCHMENT_CONTROLLER_NAME } : {}),
    ...(env.CATCHMENT_PROMETHEUS_URL ? { prometheusUrl: env.CATCHMENT_PROMETHEUS_URL } : {}),
    ...(env.CATCHMENT_WEBHOOK_URL ? { webhookUrl: env.CATCHMENT_WEBHOOK_URL } : {}),
    ...(env.CATCHMENT_CONTROLLER_TICK ? { tickSchedule: env.CATCHMENT_CONTROLLER_TICK } : {}),
    http: {
      host: env.CATCHMENT_CONTROLLER_HOST ?? '127.0.0.1',
      port: Number.isInteger(port) && port >= 0 && port <= 65535 ? port : DEFAULT_PORTS.controllerHttp,
    },
  };
}
