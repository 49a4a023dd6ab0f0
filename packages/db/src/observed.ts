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
  /** Per exported prefix, the communities on every established session exporting it. */
  communities: Map<string, Set<string>>;
  /** The DSR state its XDP applier last wrote (fraction 0-1); null: none reported. */
  dsr: { enabled: boolean; fraction: number } | null;
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
  const communities = new Map<string, Set<string>>();
  for (const s of o.sessions) {
    if (!isObject(s) || s.established !== true || !Array.isArray(s.exported)) continue;
    for (const r of s.exported) {
      if (!isObject(r) || typeof r.prefix !== 'string') continue;
      exported.add(r.prefix);
      const mine = new Set(Array.isArray(r.communities) ? r.communities.filter((c) => typeof c === 'string') : []);
      const seen = communities.get(r.prefix);
      communities.set(r.prefix, seen ? intersect(seen, mine) : mine);
    }
  }
  return {
    healthy: row.healthy && o.healthy === true && readable,
    problems,
    exported: readable ? [...exported].sort() : null,
    communities,
    dsr: dsrOf(o.appliers),
  };
}

const intersect = (a: Set<string>, b: Set<string>) => new Set([...a].filter((x) => b.has(x)));

/** The XDP applier's state (apps/edge xdp/applier.ts `state()`: fraction in parts per 65536). */
function dsrOf(appliers: unknown): { enabled: boolean; fraction: number } | null {
  if (!Array.isArray(appliers)) return null;
  for (const a of appliers) {
    const st = isObject(a) && isObject(a.state) ? a.state : undefined;
    if (st && typeof st.enabled === 'boolean' && typeof st.fraction === 'number' && Number.isFinite(st.fraction)) {
      return { enabled: st.enabled, fraction: Math.min(1, Math.max(0, st.fraction / 65536)) };
    }
  }
  return null;
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
    // A community is observed on a prefix when every agent exporting the prefix carries it.
    const communities: Record<string, string[]> = {};
    for (const prefix of exported ?? []) {
      const sets = seen.flatMap((s) => {
        const c = s.communities.get(prefix);
        return c ? [c] : [];
      });
      communities[prefix] = [...sets.reduce(intersect)].sort();
    }
    // DSR is observed in place when every agent that reports an XDP state has it.
    const dsrs = seen.flatMap((s) => (s.dsr ? [s.dsr] : []));
    const dsr =
      dsrs.length === 0
        ? null
        : { enabled: dsrs.every((d) => d.enabled), fraction: Math.min(...dsrs.map((d) => d.fraction)) };
    out.set(edge, {
      reportedAt: latest.reportedAt.toISOString(),
      healthy: seen.every((s) => s.healthy),
      problems: [...new Set(seen.flatMap((s) => s.problems))],
      exported,
      communities,
      dsr,
    });
  }
  return out;
}
