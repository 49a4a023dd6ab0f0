import { instrumentProcess } from '@catchment/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The controller's Prometheus metrics, in a registry of its own (several controllers can share a process in tests). */
export function createMetrics() {
  const registry = new Registry();
  instrumentProcess(registry, 'controller');
  const m = {
    registry,
    leader: new Gauge({
      name: 'catchment_controller_leader',
      help: '1 while this replica leads',
      registers: [registry],
    }),
    ticks: new Counter({
      name: 'catchment_controller_ticks_total',
      help: 'Controller ticks run as leader',
      labelNames: ['result'],
      registers: [registry],
    }),
    tickSeconds: new Histogram({
      name: 'catchment_controller_tick_seconds',
      help: 'Duration of a controller tick',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    runsOpen: new Gauge({
      name: 'catchment_controller_runs_open',
      help: 'Open playbook runs by state',
      labelNames: ['state'],
      registers: [registry],
    }),
    runsStarted: new Counter({
      name: 'catchment_controller_runs_started_total',
      help: 'Playbook runs started',
      labelNames: ['playbook'],
      registers: [registry],
    }),
    runsEnded: new Counter({
      name: 'catchment_controller_runs_ended_total',
      help: 'Playbook runs ended',
      labelNames: ['state'],
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'catchment_controller_decisions_total',
      help: 'State machine decisions',
      labelNames: ['type'],
      registers: [registry],
    }),
    actions: new Counter({
      name: 'catchment_controller_actions_total',
      help: 'Actions applied and reverted',
      labelNames: ['kind', 'op'],
      registers: [registry],
    }),
    verifications: new Counter({
      name: 'catchment_controller_verifications_total',
      help: "Stages' effects checked at the end of their verify window, by step kind and result (met, failed)",
      labelNames: ['kind', 'result'],
      registers: [registry],
    }),
    refusals: new Counter({
      name: 'catchment_controller_refusals_total',
      help: 'Steps refused by a safety rule',
      labelNames: ['rule'],
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'catchment_controller_notifications_total',
      help: 'Run events notified',
      labelNames: ['event'],
      registers: [registry],
    }),
    sloEvaluations: new Counter({
      name: 'catchment_controller_slo_evaluations_total',
      help: 'SLO evaluations',
      labelNames: ['slo', 'result'],
      registers: [registry],
    }),
    sloValue: new Gauge({
      name: 'catchment_controller_slo_value',
      help: 'Latest SLO value per edge',
      labelNames: ['slo', 'edge'],
      registers: [registry],
    }),
    sloBudgetRemaining: new Gauge({
      name: 'catchment_controller_slo_error_budget_remaining_ratio',
      help: 'Share of the error budget left in the objective window, per SLO and edge (negative: overspent)',
      labelNames: ['slo', 'edge'],
      registers: [registry],
    }),
    sloBurnRate: new Gauge({
      name: 'catchment_controller_slo_burn_rate',
      help: 'Error-budget burn rate per SLO, edge and window (1 spends the budget exactly in its window)',
      labelNames: ['slo', 'edge', 'window'],
      registers: [registry],
    }),
    publishes: new Counter({
      name: 'catchment_controller_snapshot_publishes_total',
      help: 'Snapshots published by the controller',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
  return m;
}

export type ControllerMetrics = ReturnType<typeof createMetrics>;
