import { instrumentProcess } from '@catchment/core';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per API instance, so several instances (tests) never share counters. */
export function createMetrics() {
  const registry = new Registry();
  instrumentProcess(registry, 'api');
  const metrics = {
    registry,
    requests: new Counter({
      name: 'catchment_api_requests_total',
      help: 'HTTP requests by route, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'catchment_api_request_duration_seconds',
      help: 'HTTP request latency by route and method (long-polls included)',
      labelNames: ['route', 'method'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 60],
      registers: [registry],
    }),
    snapshotVersion: new Gauge({
      name: 'catchment_snapshot_version',
      help: 'Latest published snapshot version known to the API',
      registers: [registry],
    }),
    consumerVersion: new Gauge({
      name: 'catchment_consumer_snapshot_version',
      help: 'Snapshot version each consumer last reported',
      labelNames: ['consumer', 'kind'] as const,
      registers: [registry],
    }),
    consumerLag: new Gauge({
      name: 'catchment_consumer_lag_versions',
      help: 'Versions a consumer is behind the latest published snapshot',
      labelNames: ['consumer', 'kind'] as const,
      registers: [registry],
    }),
    consumerHealthy: new Gauge({
      name: 'catchment_consumer_healthy',
      help: '1 when the consumer reported itself healthy',
      labelNames: ['consumer', 'kind'] as const,
      registers: [registry],
    }),
    consumerReported: new Gauge({
      name: 'catchment_consumer_last_report_timestamp_seconds',
      help: 'Unix time of the last report of each consumer (DNS server or edge agent)',
      labelNames: ['consumer', 'kind'] as const,
      registers: [registry],
    }),
    waiting: new Gauge({
      name: 'catchment_api_longpoll_waiting',
      help: 'Snapshot long-polls waiting for a newer version',
      registers: [registry],
    }),
    distributionLimited: new Counter({
      name: 'catchment_api_snapshot_over_limit_total',
      help: 'Snapshot requests over their consumer limit: served (a version it lacked), held (until one), refused (429)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    authVerifications: new Counter({
      name: 'catchment_api_auth_verifications_total',
      help: 'scrypt checks of token secrets: valid, invalid, or busy (refused, the verification gate was full)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    simulations: new Counter({
      name: 'catchment_api_simulations_total',
      help: 'POST /v1/simulate runs by outcome: completed, cancelled (the client went away, or the API stopped), failed (an error, out of memory included), timeout',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    simulationRunning: new Gauge({
      name: 'catchment_api_simulation_running',
      help: '1 while a simulation runs on this API instance',
      registers: [registry],
    }),
    simulationStrategiesDone: new Gauge({
      name: 'catchment_api_simulation_strategies_done',
      help: 'Strategies the running simulation has finished (0 when none runs)',
      registers: [registry],
    }),
    signals: new Counter({
      name: 'catchment_api_signals_total',
      help: 'Signals received, by source and outcome (new, updated, duplicate)',
      labelNames: ['source', 'outcome'] as const,
      registers: [registry],
    }),
  };
  // Every outcome from the start, at 0, so a rate over them needs no first event.
  for (const outcome of SIMULATION_OUTCOMES) metrics.simulations.inc({ outcome }, 0);
  return metrics;
}

/** The bounded label set of catchment_api_simulations_total. */
export const SIMULATION_OUTCOMES = ['completed', 'cancelled', 'failed', 'timeout'] as const;
export type SimulationOutcome = (typeof SIMULATION_OUTCOMES)[number];

export type Metrics = ReturnType<typeof createMetrics>;

export function registerRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    metrics.latency.observe({ route, method: req.method }, reply.elapsedTime / 1000);
  });
}
