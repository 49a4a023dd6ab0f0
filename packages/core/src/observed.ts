import type { SnapshotEdge, SnapshotObserved, SnapshotSettings } from './snapshot-schema.ts';

/**
 * Observed state: what an edge's agents report their speakers really do, and the one rule
 * on how fresh that must be. The compiler (packages/db) builds `SnapshotObserved` from the
 * reports; the routing rules (coverage) and everything that shows an edge's health read it
 * through `observedHealth`.
 */

/** Agents report every 10 s by default: three missed reports make an edge's health unknown. */
export const DEFAULT_AGENT_REPORT_STALE_SECONDS = 30;

export type ObservedHealthState = 'healthy' | 'unhealthy' | 'unknown';

export interface ObservedHealth {
  state: ObservedHealthState;
  /** Age of the latest report (ms) at `now`; null when no agent ever reported. */
  ageMs: number | null;
  /** Why not healthy (the agents' problems, or that the report is missing or too old). */
  reason: string | null;
}

/** The bound after which an agent's silence makes its edge unknown (ms). */
export function agentReportStaleMs(settings: Pick<SnapshotSettings, 'agentReportStaleSeconds'>): number {
  return (settings.agentReportStaleSeconds ?? DEFAULT_AGENT_REPORT_STALE_SECONDS) * 1000;
}

/** "4 s", "3 min": how old a report is, for refusals and the dashboard. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/**
 * An edge's observed health at `now`: unknown when no agent reported within `staleMs`
 * (never, or too long ago), else what the agents reported. Automation treats unknown as
 * not healthy; operators' overrides are judged by the callers (they still win).
 */
export function observedHealth(observed: SnapshotObserved, now: number, staleMs: number): ObservedHealth {
  if (observed.reportedAt === null) return { state: 'unknown', ageMs: null, reason: 'no agent has reported' };
  const ageMs = Math.max(0, now - Date.parse(observed.reportedAt));
  if (!Number.isFinite(ageMs) || ageMs > staleMs) {
    return {
      state: 'unknown',
      ageMs: Number.isFinite(ageMs) ? ageMs : null,
      reason: `no agent report for ${formatAge(ageMs)} (bound ${formatAge(staleMs)})`,
    };
  }
  if (!observed.healthy) {
    return { state: 'unhealthy', ageMs, reason: observed.problems.join('; ') || 'the agent reports not healthy' };
  }
  return { state: 'healthy', ageMs, reason: null };
}

/**
 * Why `edge` does not observably announce `prefix` at `now` (null: it does): health unknown or
 * bad, or no established session exports the prefix. Edges without an observation (bodies
 * built by hand) and edges an operator forced up are taken as intended (operators win).
 */
export function observedAnnouncementProblem(
  edge: Pick<SnapshotEdge, 'name' | 'override' | 'observed'>,
  prefix: string,
  now: number,
  staleMs: number,
): string | null {
  const o = edge.observed;
  if (!o || edge.override === 'force-up') return null;
  const h = observedHealth(o, now, staleMs);
  const age = h.ageMs === null ? 'no agent report' : `agent report ${formatAge(h.ageMs)} old`;
  if (h.state === 'unknown') return `${edge.name}: health unknown, ${h.reason}`;
  if (o.exported === null) {
    return `${edge.name}: exports unknown, ${o.problems.join('; ') || 'its speaker could not be read'} (${age})`;
  }
  if (!o.exported.includes(prefix)) return `${edge.name}: no established session exports ${prefix} (${age})`;
  if (h.state === 'unhealthy') return `${edge.name}: not healthy, ${h.reason} (${age})`;
  return null;
}
