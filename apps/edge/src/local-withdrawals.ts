import type { Snapshot } from '@catchment/core';
import {
  type AnnouncementChange,
  addressPrefix,
  checkChanges,
  desiredAnnouncements,
  isAnnouncer,
  longestMatch,
  parsePrefix,
  type RouteChangeLog,
  type SafetyVerdict,
} from '@catchment/routing';

export interface LocalDecision {
  /** Prefix → reason, for desiredAnnouncements' localWithdrawals. */
  withdrawals: Map<string, string>;
  /** Withdrawals the safety rules refused (the prefix stays announced). */
  refused: { prefix: string; verdict: SafetyVerdict }[];
  /** Recovered prefixes kept withdrawn because the route-change budget is spent. */
  held: string[];
  /** Prefixes whose local state changes now (recorded in the change log). */
  changed: string[];
}

/**
 * Which of this edge's prefixes to withdraw because its services fail locally.
 * Each service address (the edge's unicast ones and the anycast one) maps to the most
 * specific prefix this edge announces that covers it; a prefix is withdrawn when every
 * service mapped to it fails (one healthy service keeps it). The safety rules decide
 * last: coverage before withdrawal and never the last route of a service, judged for
 * all local withdrawals together; a re-announcement waits for the route-change budget.
 * Frozen automation (global or for this edge) and a force-up override turn it off.
 */
export function decideLocalWithdrawals(
  snapshot: Snapshot,
  edgeName: string,
  failing: ReadonlySet<string>,
  current: ReadonlyMap<string, string>,
  log: RouteChangeLog,
  now = Date.now(),
): LocalDecision {
  const body = snapshot.body;
  // Humans win (safety rule 8): frozen automation or a forced-up edge means no local withdrawals.
  const edge = body.edges.find((e) => e.name === edgeName);
  if (body.automation.frozen || body.automation.frozenEdges.includes(edgeName) || edge?.override === 'force-up') {
    const changed = [...current.keys()];
    for (const p of changed) log.record(p, now);
    return { withdrawals: new Map(), refused: [], held: [], changed };
  }
  const mine = body.prefixes.filter((p) => isAnnouncer(p, edgeName)).map((p) => ({ prefix: parsePrefix(p.cidr) }));
  const services = new Map<string, Set<string>>();
  for (const svc of body.services) {
    const own = svc.addresses.filter((a) => a.edge === edgeName).flatMap((a) => [...a.v4, ...a.v6]);
    const addrs = [...own, svc.anycast.v4, svc.anycast.v6].filter((a): a is string => typeof a === 'string');
    for (const a of addrs) {
      const m = longestMatch(mine, addressPrefix(a));
      if (!m) continue;
      const set = services.get(m.prefix.text) ?? new Set<string>();
      set.add(svc.name);
      services.set(m.prefix.text, set);
    }
  }
  const candidates = new Map<string, string>();
  for (const [prefix, svcs] of services) {
    if ([...svcs].every((s) => failing.has(s)))
      candidates.set(prefix, `local-health: ${[...svcs].sort().join(', ')} failing`);
  }
  // What the snapshot alone would announce: only those need the safety check.
  const announcedBySnapshot = new Set(
    desiredAnnouncements(snapshot, edgeName)
      .filter((d) => d.state === 'announced')
      .map((d) => d.prefix.text),
  );
  const budget = body.settings.routeChangesPerPrefixPerHour;
  const held: string[] = [];
  const order: { prefix: string; reason: string; isNew: boolean }[] = [];
  for (const [prefix, reason] of current) {
    if (candidates.has(prefix)) order.push({ prefix, reason: candidates.get(prefix) ?? reason, isNew: false });
    else if (!log.check(prefix, budget, now).ok) {
      held.push(prefix);
      order.push({ prefix, reason: `${reason} (recovered; held by the route-change budget)`, isNew: false });
    }
  }
  for (const [prefix, reason] of candidates) if (!current.has(prefix)) order.push({ prefix, reason, isNew: true });

  // The snapshot's observations are as old as its publication, which happens only on changes
  // (often before any agent reported): judged now they would all be unknown and hold every
  // local withdrawal. The agent judges coverage on the intended state; the API and the
  // controller judge on fresh observations.
  const intended = { ...body, edges: body.edges.map(({ observed: _o, ...e }) => e) };
  const accepted: AnnouncementChange[] = [];
  const withdrawals = new Map<string, string>();
  const refused: LocalDecision['refused'] = [];
  for (const item of order) {
    if (!announcedBySnapshot.has(item.prefix)) {
      withdrawals.set(item.prefix, item.reason);
      continue;
    }
    const change: AnnouncementChange = { edge: edgeName, prefix: item.prefix, state: 'withdrawn' };
    const verdict = checkChanges(intended, [...accepted, change]);
    if (verdict.ok) {
      accepted.push(change);
      withdrawals.set(item.prefix, item.reason);
    } else refused.push({ prefix: item.prefix, verdict });
  }
  const changed = [
    ...[...withdrawals.keys()].filter((p) => !current.has(p)),
    ...[...current.keys()].filter((p) => !withdrawals.has(p)),
  ];
  for (const p of changed) log.record(p, now);
  return { withdrawals, refused, held: held.filter((p) => withdrawals.has(p)), changed };
}
