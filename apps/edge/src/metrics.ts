import { instrumentProcess } from '@catchment/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The edge agent's Prometheus metrics, on a registry of its own (several agents may share a
 * process in tests) labelled with the edge, or on a registry shared with the appliers (XDP).
 */
export function createEdgeMetrics(edge: string, shared?: Registry) {
  const registry = shared ?? new Registry();
  if (!shared) registry.setDefaultLabels({ edge });
  instrumentProcess(registry, 'edge');
  let lastApply: number | undefined;
  const m = {
    registry,
    announcements: new Gauge({
      name: 'catchment_edge_announcements',
      help: 'Prefixes of this edge by desired state',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'catchment_edge_reconcile_duration_seconds',
      help: 'Time to reconcile the speaker and appliers to a snapshot',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'catchment_edge_reconcile_errors_total',
      help: 'Failed reconciles, by stage (desired, safety, speaker, applier name)',
      labelNames: ['stage'] as const,
      registers: [registry],
    }),
    reconciles: new Counter({
      name: 'catchment_edge_reconciles_total',
      help: 'Reconciles by trigger and whether the speaker changed',
      labelNames: ['trigger', 'changed'] as const,
      registers: [registry],
    }),
    sessionUp: new Gauge({
      name: 'catchment_edge_bgp_session_up',
      help: '1 when the BGP session is Established',
      labelNames: ['session', 'state'] as const,
      registers: [registry],
    }),
    snapshotVersion: new Gauge({
      name: 'catchment_edge_snapshot_version',
      help: 'Version of the snapshot last applied',
      registers: [registry],
    }),
    capacityRps: new Gauge({
      name: 'catchment_edge_capacity_rps',
      help: 'Capacity of this edge in requests/s, from the latest snapshot (the denominator of its utilisation)',
      registers: [registry],
    }),
    lastApplyTimestamp: new Gauge({
      name: 'catchment_edge_last_apply_timestamp_seconds',
      help: 'Unix time of the last successful apply',
      registers: [registry],
    }),
    secondsSinceApply: new Gauge({
      name: 'catchment_edge_seconds_since_last_apply',
      help: 'Seconds since the last successful apply (-1 before the first)',
      registers: [registry],
      collect() {
        this.set(lastApply === undefined ? -1 : (Date.now() - lastApply) / 1000);
      },
    }),
    healthCheckUp: new Gauge({
      name: 'catchment_edge_health_check_up',
      help: '1 when the local health check counts as up (not down, not dwelling)',
      labelNames: ['service', 'target'] as const,
      registers: [registry],
    }),
    addressesMissing: new Gauge({
      name: 'catchment_edge_addresses_missing',
      help: 'Service addresses this edge must accept (its own, those its anycast supernets cover, DSR flows shed to it) that no local interface has',
      registers: [registry],
    }),
    addressMissing: new Gauge({
      name: 'catchment_edge_address_missing',
      help: '1 for each service address this edge must accept that no local interface has, with the first reason',
      labelNames: ['address', 'reason'] as const,
      registers: [registry],
    }),
    safetyRefusals: new Counter({
      name: 'catchment_edge_safety_refusals_total',
      help: 'Local withdrawals or applies refused by a safety rule',
      labelNames: ['rule'] as const,
      registers: [registry],
    }),
    // The controller's default utilisation query reads catchment_edge_load_rps{edge=...}
    // (apps/controller slo-evaluator.ts) when it has a Prometheus.
    loadRps: new Gauge({
      name: 'catchment_edge_load_rps',
      help: 'Load of this edge in requests/s from its load source, as reported to the API (absent while the source fails)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    loadSampleTimestamp: new Gauge({
      name: 'catchment_edge_load_last_sample_timestamp_seconds',
      help: 'Unix time of the last good load sample',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    loadReadErrors: new Counter({
      name: 'catchment_edge_load_read_errors_total',
      help: 'Failed reads of the load source (unreachable, metric missing, malformed, timeout)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    markApplied(at: number) {
      lastApply = at;
      m.lastApplyTimestamp.set(at / 1000);
    },
  };
  return m;
}

export type EdgeMetrics = ReturnType<typeof createEdgeMetrics>;
