import type { Snapshot, SnapshotBody, SnapshotEdge, SnapshotPrefix } from '@catchment/core';
import { type Community, GRACEFUL_SHUTDOWN, normaliseCommunities } from './community.ts';
import { comparePrefixes, type Prefix, parsePrefix } from './prefix.ts';

export type AnnouncementState = 'announced' | 'withdrawn';

/** One prefix this edge should (or should not) announce, with its communities. */
export interface DesiredAnnouncement {
  readonly prefix: Prefix;
  readonly kind: 'unicast' | 'anycast';
  readonly state: AnnouncementState;
  /** On the route: every BGP session gets them. */
  readonly communities: Community[];
  /** For one transit's sessions only (its export filter adds them), by transit name. */
  readonly transitCommunities?: ReadonlyMap<string, Community[]>;
  /** Why it is in this state (edge state, snapshot action, local health), for traces. */
  readonly reason: string | null;
}

export interface DesiredOptions {
  /** Prefixes this edge withdraws on its own (failing local health checks): canonical text → reason. */
  localWithdrawals?: ReadonlyMap<string, string>;
  /** Tag every announced route with GRACEFUL_SHUTDOWN (RFC 8326), e.g. before a planned shutdown. */
  gracefulShutdown?: boolean;
}

export class UnknownEdgeError extends Error {
  readonly edge: string;
  constructor(edge: string, version?: number) {
    super(`edge "${edge}" is not in snapshot${version === undefined ? '' : ` v${version}`}`);
    this.name = 'UnknownEdgeError';
    this.edge = edge;
  }
}

export function bodyOf(s: Snapshot | SnapshotBody): SnapshotBody {
  return 'body' in s ? s.body : s;
}

// Snapshots are immutable once sealed: index each body's announcements once, by (edge, canonical prefix).
// (A body still being built may grow: a different length rebuilds the index.)
type Entry = SnapshotBody['announcements'][number];
const indexes = new WeakMap<Entry[], { length: number; map: Map<string, Entry> }>();
function announcementIndex(body: SnapshotBody): Map<string, Entry> {
  const cached = indexes.get(body.announcements);
  if (cached && cached.length === body.announcements.length) return cached.map;
  const map = new Map(body.announcements.map((a) => [`${a.edge} ${parsePrefix(a.prefix).text}`, a]));
  indexes.set(body.announcements, { length: body.announcements.length, map });
  return map;
}

/** True when `edge` is meant to announce `p` at all: owner of a unicast, listed for an anycast. */
export function isAnnouncer(p: SnapshotPrefix, edge: string): boolean {
  return p.kind === 'unicast' ? p.edge === edge : p.announcers.includes(edge);
}

/**
 * The state the snapshot gives (edge, prefix), before any local decision. Operator
 * overrides come first (rule 8), then the edge's state, then the snapshot's
 * announcement entry (automation or manual action). Communities: the prefix's own
 * plus those of the announcement entry.
 */
export function snapshotAnnouncement(
  body: SnapshotBody,
  edge: SnapshotEdge,
  p: SnapshotPrefix,
): {
  state: AnnouncementState;
  communities: Community[];
  transitCommunities: Record<string, string[]>;
  reason: string | null;
} {
  const entry = announcementIndex(body).get(`${edge.name} ${parsePrefix(p.cidr).text}`);
  const communities: (Community | string)[] = [...p.communities, ...(entry?.communities ?? [])];
  const draining = edge.override === 'drain' || (edge.override === 'none' && edge.state === 'draining');
  if (draining) communities.push(GRACEFUL_SHUTDOWN);
  const out = (state: AnnouncementState, reason: string | null) => ({
    state,
    communities: normaliseCommunities(communities),
    transitCommunities: entry?.transitCommunities ?? {},
    reason,
  });
  if (edge.override === 'force-down') return out('withdrawn', 'override:force-down');
  if (edge.override === 'none' && (edge.state === 'down' || edge.state === 'maintenance')) {
    return out('withdrawn', `edge-state:${edge.state}`);
  }
  if (entry) return out(entry.state, entry.reason);
  return out('announced', draining ? 'edge-draining' : null);
}

/**
 * Pure: the desired announcement set of one edge for one snapshot. Every prefix the
 * edge owns or co-announces appears once, announced or withdrawn, sorted (IPv4 first).
 * Throws UnknownEdgeError when the snapshot does not know the edge: an agent must then
 * keep what it has rather than apply an empty set.
 */
export function desiredAnnouncements(
  snapshot: Snapshot | SnapshotBody,
  edgeName: string,
  opts: DesiredOptions = {},
): DesiredAnnouncement[] {
  const body = bodyOf(snapshot);
  const edge = body.edges.find((e) => e.name === edgeName);
  if (!edge) throw new UnknownEdgeError(edgeName, 'version' in snapshot ? snapshot.version : undefined);
  const out: DesiredAnnouncement[] = [];
  for (const p of body.prefixes) {
    if (!isAnnouncer(p, edgeName)) continue;
    const prefix = parsePrefix(p.cidr);
    const base = snapshotAnnouncement(body, edge, p);
    let state = base.state;
    let reason = base.reason;
    const local = opts.localWithdrawals?.get(prefix.text);
    if (local !== undefined && state === 'announced') {
      state = 'withdrawn';
      reason = local;
    }
    const communities =
      opts.gracefulShutdown && state === 'announced'
        ? normaliseCommunities([...base.communities, GRACEFUL_SHUTDOWN])
        : base.communities;
    const perTransit = new Map<string, Community[]>();
    for (const t of body.transits) {
      perTransit.set(t.name, normaliseCommunities(base.transitCommunities[t.name] ?? []));
    }
    out.push({ prefix, kind: p.kind, state, communities, transitCommunities: perTransit, reason });
  }
  return out.sort((a, b) => comparePrefixes(a.prefix, b.prefix));
}

export function announcedOnly(set: DesiredAnnouncement[]): DesiredAnnouncement[] {
  return set.filter((a) => a.state === 'announced');
}
