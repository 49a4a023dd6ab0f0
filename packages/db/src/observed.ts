import type { SnapshotObserved } from '@catchment/core';

/** One consumer row of an edge agent, as the compiler reads it. */
export interface AgentReportRow {
  name: string;
  edge: string | null;
  healthy: boolean;
  details: unknown;
  reportedAt: Date;
}

/** An agent's `details.observed` (apps/edge agent.ts): read defensively, reports are client input. */
interface AgentObservation {
  healthy: boolean;
  problems: string[];
  /** Prefixes exported on established sessions; null: the speaker could not be read. */
  exported: string[] | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Whether a report carries an agent's observation (load-only reporters and older agents do not). */
function observes(row: AgentReportRow): boolean {
  const o = isObject(row.details) ? row.details.observed : undefined;
  return isObject(o) && Array.isArray(o.sessions);
}

function observationOf(row: AgentReportRow): AgentObservation {
  const o = (row.details as { observed: Record<string, unknown> & { sessions: unknown[] } }).observed;
  const problems = Array.isArray(o.problems) ? o.problems.filter((p): p is string => typeof p === 'string') : [];
  const readable = o.readable === true;
  const exported = new Set<string>();
  for (const s of o.sessions) {
    if (!isObject(s) || s.established !== true || !Array.isArray(s.exported)) continue;
    for (const r of s.exported) if (isObject(r) && typeof r.prefix === 'string') exported.add(r.prefix);
  }
  return {
    healthy: row.healthy && o.healthy === true && readable,
    problems,
    exported: readable ? [...exported].sort() : null,
  };
}

/**
 * Each edge's observation from its agents' latest reports: the reports within the bound are
 * combined (healthy only if every one is; exported by any one); when none is within
 * it, the latest report stands, and `observedHealth` finds it too old. Edges without reports
 * have `reportedAt: null` (unknown).
 */
export function compileObserved(
  edges: readonly string[],
  rows: readonly AgentReportRow[],
  now: Date,
  staleMs: number,
): Map<string, SnapshotObserved> {
  const out = new Map<string, SnapshotObserved>();
  for (const edge of edges) {
    // Reports without an observation (a load-only reporter, an older agent) vouch for nothing.
    const mine = rows
      .filter((r) => r.edge === edge && observes(r))
      .sort((a, b) => b.reportedAt.getTime() - a.reportedAt.getTime());
    const latest = mine[0];
    if (!latest) {
      out.set(edge, { reportedAt: null, healthy: false, problems: ['no agent has reported'], exported: null });
      continue;
    }
    const fresh = mine.filter((r) => r.reportedAt.getTime() >= now.getTime() - staleMs);
    const used = fresh.length > 0 ? fresh : [latest];
    const seen = used.map(observationOf);
    const exported = seen.every((s) => s.exported === null)
      ? null
      : [...new Set(seen.flatMap((s) => s.exported ?? []))].sort();
    out.set(edge, {
      reportedAt: latest.reportedAt.toISOString(),
      healthy: seen.every((s) => s.healthy),
      problems: [...new Set(seen.flatMap((s) => s.problems))],
      exported,
    });
  }
  return out;
}
