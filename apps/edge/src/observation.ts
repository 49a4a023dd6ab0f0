import { formatCommunity, type SessionState, type Speaker } from '@catchment/routing';
import type { CheckStatus } from './health.ts';

/** One BGP session as the speaker reports it, with what it really exports (null: not readable). */
export interface ObservedSession extends SessionState {
  exported: { prefix: string; communities: string[] }[] | null;
  exportError?: string;
}

/** An applier's last result (the XDP DSR state it applied, for one). */
export interface ObservedApplier {
  name: string;
  ok: boolean;
  at: string | null;
  error: string | null;
  state: Record<string, unknown> | null;
}

/**
 * What the agent observes, sent as `details.observed` with every report: the API compiles it
 * into the edge's observed state (packages/db observed.ts), on which coverage is judged.
 */
export interface Observation {
  readAt: string;
  speaker: string;
  /** The speaker answered: sessions (and their exports) are what it says, not what we asked for. */
  readable: boolean;
  error: string | null;
  sessions: ObservedSession[];
  checks: { service: string; target: string; state: string; lastError: string | null }[];
  appliers: ObservedApplier[];
  /** No problem: the speaker was read, a session is established, every check is up, the last apply worked. */
  healthy: boolean;
  problems: string[];
}

/** Reads the sessions and, for each established one, the routes exported to it. */
export async function readSessions(
  speaker: Speaker,
): Promise<{ readable: true; sessions: ObservedSession[] } | { readable: false; error: string }> {
  let states: SessionState[];
  try {
    states = await speaker.sessions();
  } catch (err) {
    return { readable: false, error: (err as Error).message };
  }
  const sessions: ObservedSession[] = [];
  for (const s of states) {
    if (!s.established) {
      // A session that is not up exports nothing, whatever the speaker's tables hold.
      sessions.push({ ...s, exported: [] });
      continue;
    }
    try {
      const routes = await speaker.exported(s.name);
      sessions.push({
        ...s,
        exported: routes.map((r) => ({ prefix: r.prefix.text, communities: r.communities.map(formatCommunity) })),
      });
    } catch (err) {
      sessions.push({ ...s, exported: null, exportError: (err as Error).message });
    }
  }
  return { readable: true, sessions };
}

/** The observation from the parts the agent read; its problems say why the edge is not healthy. */
export function observation(parts: {
  speaker: string;
  read: Awaited<ReturnType<typeof readSessions>> | undefined;
  checks: CheckStatus[];
  appliers: ObservedApplier[];
  lastError: string | null;
  at?: Date;
}): Observation {
  const problems: string[] = [];
  const read = parts.read ?? { readable: false as const, error: 'not read yet' };
  if (!read.readable) problems.push(`speaker ${parts.speaker} not readable: ${read.error}`);
  const sessions = read.readable ? read.sessions : [];
  if (read.readable && !sessions.some((s) => s.established)) {
    problems.push(
      sessions.length === 0
        ? 'no BGP session configured'
        : `no established BGP session (${sessions.map((s) => `${s.name} ${s.state}`).join(', ')})`,
    );
  }
  for (const c of parts.checks) {
    if (c.state !== 'up') problems.push(`health check ${c.service} (${c.target}) ${c.state}`);
  }
  if (parts.lastError) problems.push(`last apply failed: ${parts.lastError}`);
  return {
    readAt: (parts.at ?? new Date()).toISOString(),
    speaker: parts.speaker,
    readable: read.readable,
    error: read.readable ? null : read.error,
    sessions,
    checks: parts.checks.map((c) => ({
      service: c.service,
      target: c.target,
      state: c.state,
      lastError: c.lastError ?? null,
    })),
    appliers: parts.appliers,
    healthy: problems.length === 0,
    problems,
  };
}
