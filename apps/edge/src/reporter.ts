import type { ApiClient } from '@catchment/api-client';
import type { Logger } from '@catchment/core';
import type { AgentStatus } from './agent.ts';
import type { EdgeLoad } from './load/source.ts';

export interface EdgeReport {
  consumer: string;
  kind: 'edge';
  /** The edge reported for (the API defaults to the consumer name without its `edge:` prefix). */
  edge?: string;
  snapshotVersion: number | null;
  healthy: boolean;
  /** The edge's load when its load source gave a fresh rate; absent otherwise (never a made-up 0). */
  load?: EdgeLoad;
  details: Record<string, unknown>;
}

/**
 * The report of an agent's status: its load when fresh, health as observed, and in `details`
 * what the speaker really exports per session (null: it could not be read) with the desired
 * set beside it, so the dashboard and `catchment status` show both.
 */
export function edgeReportOf(s: AgentStatus, speaker: string, load: EdgeLoad | undefined): EdgeReport {
  return {
    consumer: `edge:${s.edge}`,
    kind: 'edge',
    // The API files the load under this edge (without it, under the consumer's name, which is no edge).
    edge: s.edge,
    snapshotVersion: s.snapshotVersion,
    healthy: s.observed.healthy,
    ...(load ? { load } : {}),
    details: {
      announcements: s.observed.readable
        ? s.observed.sessions.flatMap((x) =>
            (x.exported ?? []).map((r) => ({ ...r, state: 'announced', session: x.name })),
          )
        : null,
      desired: s.announcements,
      sessions: s.sessions,
      checks: s.checks,
      lastApplyAt: s.lastApplyAt,
      lastError: s.lastError,
      speaker,
      missingAddresses: s.missingAddresses,
      observed: s.observed,
    },
  };
}

/**
 * POST /v1/reports. Best effort: a failed report is logged and never affects routing. A
 * report is a state, not an event: sending it again to the next API URL is harmless.
 */
export async function sendReport(
  client: ApiClient,
  report: EdgeReport,
  logger?: Logger,
  timeoutMs = 5000,
): Promise<boolean> {
  try {
    const res = await client.request('POST', '/v1/reports', { body: report, timeoutMs, retry: true });
    const ok = res.status >= 200 && res.status < 300;
    if (!ok) logger?.warn({ status: res.status, body: res.text.slice(0, 200) }, 'report refused by the API');
    return ok;
  } catch (err) {
    logger?.debug({ err: (err as Error).message }, 'report not delivered');
    return false;
  }
}
