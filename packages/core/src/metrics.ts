import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';
import { VERSION } from './version.ts';

/** The parts that serve /metrics; the `part` label of catchment_build_info. */
export type MetricsPart = 'api' | 'dns' | 'controller' | 'edge';

/**
 * What every part's registry carries besides its own metrics: prom-client's standard
 * process_* and nodejs_* metrics (names unchanged, so stock dashboards and alerts work) and
 * catchment_build_info (1, labelled with the version). Idempotent per registry, since
 * appliers may share the agent's.
 */
export function instrumentProcess(registry: Registry, part: MetricsPart): void {
  if (registry.getSingleMetric('catchment_build_info')) return;
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters, which promtool flags; each is the sum of its per-type
  // gauge (nodejs_active_handles{type} and so on), so nothing is lost without them.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  new Gauge({
    name: 'catchment_build_info',
    help: 'Always 1; labelled with the version of Catchment and of Node.js that run this part',
    labelNames: ['version', 'part', 'nodejs'] as const,
    registers: [registry],
  }).set({ version: VERSION, part, nodejs: process.versions.node }, 1);
}
