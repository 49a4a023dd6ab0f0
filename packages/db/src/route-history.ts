import { edgeAnnouncedPrefixes, HOUR_MS, type WorldPrefix, type WorldRouteChange } from '@catchment/core';

/** An action row as the route history needs it: when it started and when it ended (if it did). */
export interface RouteActionSpan {
  kind: string;
  edge: string | null;
  /** withdraw-unicast: its prefix; communities: params.prefix (absent: every prefix of the edge). */
  prefix: string | null;
  start: Date;
  /** Reverted, or expired at or before `now`; null while in force. */
  end: Date | null;
}

/**
 * Rule 5's history, counted as real transitions of each prefix's announcement:
 *  - withdrawals: the union of a prefix's withdraw-unicast spans; each start of the union
 *    is a withdrawal and each end a re-announcement (a second withdrawal of a withdrawn
 *    prefix changes nothing, and neither does reverting one of two overlapping ones);
 *    an expiry that re-announces counts like a revert;
 *  - communities: each start and end of a communities action on the prefix changes
 *    the announcement's attributes (an UPDATE to every peer), at distinct instants.
 * Only transitions in (now − 1 h, now] are returned.
 */
export function routeChanges(
  spans: readonly RouteActionSpan[],
  prefixes: readonly WorldPrefix[],
  now: Date,
): WorldRouteChange[] {
  const since = now.getTime() - HOUR_MS;
  const out: WorldRouteChange[] = [];
  const push = (prefix: string, at: number) => {
    if (at > since && at <= now.getTime()) out.push({ prefix, at: new Date(at) });
  };
  const withdrawals = new Map<string, RouteActionSpan[]>();
  const communities = new Map<string, Set<number>>();
  for (const s of spans) {
    if (s.kind === 'withdraw-unicast' && s.prefix) {
      withdrawals.set(s.prefix, [...(withdrawals.get(s.prefix) ?? []), s]);
    } else if (s.kind === 'communities' && s.edge) {
      for (const p of s.prefix ? [s.prefix] : edgeAnnouncedPrefixes(prefixes, s.edge)) {
        const times = communities.get(p) ?? new Set<number>();
        times.add(s.start.getTime());
        if (s.end) times.add(s.end.getTime());
        communities.set(p, times);
      }
    }
  }
  for (const [prefix, list] of withdrawals) {
    const sorted = [...list].sort((a, b) => a.start.getTime() - b.start.getTime());
    let open: { end: number } | undefined;
    for (const s of sorted) {
      const start = s.start.getTime();
      const end = s.end ? s.end.getTime() : Number.POSITIVE_INFINITY;
      if (open && start <= open.end) {
        open.end = Math.max(open.end, end);
        continue;
      }
      if (open && Number.isFinite(open.end)) push(prefix, open.end);
      push(prefix, start);
      open = { end };
    }
    if (open && Number.isFinite(open.end)) push(prefix, open.end);
  }
  for (const [prefix, times] of communities) for (const at of times) push(prefix, at);
  return out.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.prefix < b.prefix ? -1 : 1));
}
