import { DEFAULT_PORTS, durationProblem, parseDuration } from '@catchment/core';
import type { ControllerOptions } from './options.ts';

/**
 * The controller's settings from the environment, for every way it is started (its own
 * main and `catchment start`): CATCHMENT_CONTROLLER_NAME, CATCHMENT_PROMETHEUS_URL,
 * CATCHMENT_WEBHOOK_URL, CATCHMENT_CONTROLLER_TICK, CATCHMENT_CONTROLLER_HOST /
 * CATCHMENT_CONTROLLER_PORT (metrics and health, default 127.0.0.1:8454),
 * CATCHMENT_ALERT_LAPSE (default 15m) and CATCHMENT_ALERT_MAX_SILENCE (default 24h): when a
 * firing alert whose "resolved" was lost stops counting (ControllerOptions.alertLapseMs).
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
    ...(env.CATCHMENT_ALERT_LAPSE
      ? { alertLapseMs: durationMs('CATCHMENT_ALERT_LAPSE', env.CATCHMENT_ALERT_LAPSE) }
      : {}),
    ...(env.CATCHMENT_ALERT_MAX_SILENCE
      ? { alertMaxSilenceMs: durationMs('CATCHMENT_ALERT_MAX_SILENCE', env.CATCHMENT_ALERT_MAX_SILENCE) }
      : {}),
    http: {
      host: env.CATCHMENT_CONTROLLER_HOST ?? '127.0.0.1',
      port: Number.isInteger(port) && port >= 0 && port <= 65535 ? port : DEFAULT_PORTS.controllerHttp,
    },
  };
}

function durationMs(name: string, text: string): number {
  const problem = durationProblem(text);
  if (problem) throw new Error(`${name}: ${problem}`);
  return parseDuration(text);
}
