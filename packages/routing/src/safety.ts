import {
  agentReportStaleMs,
  hasHeadroom as coreHasHeadroom,
  observedAnnouncementProblem,
  observedHealth,
  type Snapshot,
  type SnapshotBody,
  type SnapshotEdge,
  type SnapshotPrefix,
} from '@catchment/core';
import { type AnnouncementState, bodyOf, isAnnouncer, snapshotAnnouncement } from './desired.ts';
import { addressPrefix, contains, covers, familyBits, type Prefix, parsePrefix } from './prefix.ts';

/**
 * The safety rules on routing changes, in one place for the API (manual actions),
 * the controller (playbooks) and the edge agent (local health withdrawals):
 *  - coverage: a unicast prefix is withdrawn only while a covering supernet is announced
 *    by at least K other healthy edges with headroom (K = settings.coverageMinAnnouncers),
 *    healthy and announcing as their agents observe it (core observed.ts);
 *  - last-route: a service address never loses its last announced covering route;
 *  - max-prefixes: a session never carries more prefixes per family than its limit;
 *  - route-change-budget: at most N changes per prefix per hour (flap damping).
 */
export type SafetyRule = 'coverage' | 'last-route' | 'max-prefixes' | 'route-change-budget' | 'not-announcer';

export type SafetyVerdict =
  | { ok: true }
  | { ok: false; rule: SafetyRule; reason: string; details?: Record<string, unknown> };

export interface SafetyContext {
  /**
   * The time observations are judged at (ms since the epoch; default: now): an edge whose
   * agents have not reported within settings.agentReportStaleSeconds is of unknown health.
   */
  now?: number;
}

export interface AnnouncementChange {
  edge: string;
  prefix: string;
  state: AnnouncementState;
}

/** A conservative default below common transit max-prefix limits. */
export const DEFAULT_MAX_PREFIXES_PER_SESSION = 1000;

const OK: SafetyVerdict = { ok: true };

type Overlay = Map<string, AnnouncementState>;
const key = (edge: string, prefix: string) => `${edge} ${prefix}`;

interface Ctx {
  body: SnapshotBody;
  edges: Map<string, SnapshotEdge>;
  prefixes: { entry: SnapshotPrefix; prefix: Prefix }[];
  overlay: Overlay;
  ctx: SafetyContext;
}

function context(s: Snapshot | SnapshotBody, overlay: Overlay, ctx: SafetyContext): Ctx {
  const body = bodyOf(s);
  return {
    body,
    edges: new Map(body.edges.map((e) => [e.name, e])),
    prefixes: body.prefixes.map((entry) => ({ entry, prefix: parsePrefix(entry.cidr) })),
    overlay,
    ctx,
  };
}

/** Whether `edge` announces `p` in effect, after the changes in the overlay. */
function announces(c: Ctx, edgeName: string, p: { entry: SnapshotPrefix; prefix: Prefix }): boolean {
  if (!isAnnouncer(p.entry, edgeName)) return false;
  const changed = c.overlay.get(key(edgeName, p.prefix.text));
  if (changed) return changed === 'announced';
  const edge = c.edges.get(edgeName);
  return edge !== undefined && snapshotAnnouncement(c.body, edge, p.entry).state === 'announced';
}

function announcers(c: Ctx, p: { entry: SnapshotPrefix; prefix: Prefix }): string[] {
  const candidates = p.entry.kind === 'unicast' ? (p.entry.edge ? [p.entry.edge] : []) : p.entry.announcers;
  return candidates.filter((e) => announces(c, e, p));
}

/**
 * Usable with headroom below the edge's compiled SLO threshold: packages/core's
 * `hasHeadroom`, the rule DNS steering and the safety rules use too.
 */
export function hasHeadroom(edge: SnapshotEdge): boolean {
  return coreHasHeadroom(edge);
}

/** Coverage of one unicast prefix withdrawn at `edge`: the best covering supernet's count of good announcers. */
function coverage(c: Ctx, edgeName: string, target: Prefix): SafetyVerdict {
  const k = c.body.settings.coverageMinAnnouncers;
  const supernets = c.prefixes.filter((p) => p.entry.kind === 'anycast' && covers(p.prefix, target));
  const now = c.ctx.now ?? Date.now();
  const staleMs = agentReportStaleMs(c.body.settings);
  const counts = supernets.map((p) => {
    const unobserved: { edge: string; reason: string; unknown: boolean }[] = [];
    const good = announcers(c, p).filter((e) => {
      const edge = c.edges.get(e);
      if (e === edgeName || edge === undefined || !hasHeadroom(edge)) return false;
      // Intended is not enough: the announcer's agents must see the supernet exported.
      const problem = observedAnnouncementProblem(edge, p.prefix.text, now, staleMs);
      if (problem) {
        // Unknown (a silent agent) is missing data rather than a bad observation: it may pass later.
        const unknown = edge.observed !== undefined && observedHealth(edge.observed, now, staleMs).state === 'unknown';
        unobserved.push({ edge: e, reason: problem, unknown });
      }
      return problem === null;
    });
    return { supernet: p.prefix.text, announcers: good, unobserved };
  });
  if (counts.some((x) => x.announcers.length >= k)) return OK;
  const observed = counts.flatMap((x) => x.unobserved.map((u) => u.reason));
  const reason =
    supernets.length === 0
      ? `no anycast supernet covers ${target.text}`
      : `${target.text}: covering ${counts.map((x) => `${x.supernet} has ${x.announcers.length}`).join(', ')} other healthy announcer(s) with headroom, ${k} needed${observed.length > 0 ? `; ${observed.join('; ')}` : ''}`;
  return { ok: false, rule: 'coverage', reason, details: { prefix: target.text, needed: k, supernets: counts } };
}

/** Every service address that is covered by an announced route before must still be after. */
function serviceRoutes(before: Ctx, after: Ctx): SafetyVerdict {
  const routed = (c: Ctx, addr: Prefix) =>
    c.prefixes.some((p) => contains(p.prefix, addr) && announcers(c, p).length > 0);
  for (const svc of before.body.services) {
    const addrs = [svc.anycast.v4, svc.anycast.v6, ...svc.addresses.flatMap((a) => [...a.v4, ...a.v6])].filter(
      (a): a is string => typeof a === 'string',
    );
    for (const a of addrs) {
      const host = addressPrefix(a);
      if (routed(before, host) && !routed(after, host)) {
        return {
          ok: false,
          rule: 'last-route',
          reason: `service ${svc.name} would lose its last announced route to ${a}`,
          details: { service: svc.name, address: a },
        };
      }
    }
  }
  return OK;
}

/**
 * Checks a set of announcement changes together, against the state they leave behind
 * (two edges withdrawing at once are judged as one step). Returns the first violation.
 */
export function checkChanges(
  snapshot: Snapshot | SnapshotBody,
  changes: AnnouncementChange[],
  ctx: SafetyContext = {},
): SafetyVerdict {
  const before = context(snapshot, new Map(), ctx);
  const overlay: Overlay = new Map();
  const parsed: { edge: string; prefix: Prefix; state: AnnouncementState }[] = [];
  for (const ch of changes) {
    const prefix = parsePrefix(ch.prefix);
    const entry = before.prefixes.find((p) => p.prefix.text === prefix.text);
    if (!entry || !isAnnouncer(entry.entry, ch.edge)) {
      return {
        ok: false,
        rule: 'not-announcer',
        reason: `edge "${ch.edge}" does not announce ${prefix.text}`,
        details: { edge: ch.edge, prefix: prefix.text },
      };
    }
    overlay.set(key(ch.edge, prefix.text), ch.state);
    parsed.push({ edge: ch.edge, prefix, state: ch.state });
  }
  const after = context(snapshot, overlay, ctx);
  return judgeWithdrawals(
    before,
    after,
    parsed.filter((ch) => ch.state === 'withdrawn'),
  );
}

/** Coverage for every withdrawal (judged in the after-state), then the services' routes. */
function judgeWithdrawals(before: Ctx, after: Ctx, withdrawn: { edge: string; prefix: Prefix }[]): SafetyVerdict {
  for (const ch of withdrawn) {
    const entry = after.prefixes.find((p) => p.prefix.text === ch.prefix.text);
    if (entry?.entry.kind === 'unicast') {
      const v = coverage(after, ch.edge, ch.prefix);
      if (!v.ok) return v;
    } else if (entry) {
      // Withdrawing a supernet announcement must keep coverage for every withdrawn unicast under it.
      for (const u of after.prefixes) {
        if (u.entry.kind !== 'unicast' || !u.entry.edge || !covers(ch.prefix, u.prefix)) continue;
        if (announces(after, u.entry.edge, u)) continue;
        const v = coverage(after, u.entry.edge, u.prefix);
        if (!v.ok) return { ...v, reason: `withdrawing ${ch.prefix.text} at ${ch.edge} breaks coverage: ${v.reason}` };
      }
    }
  }
  return serviceRoutes(before, after);
}

/** Every (edge, prefix) whose announced state differs between two snapshots. */
export function announcementChanges(
  prev: Snapshot | SnapshotBody,
  next: Snapshot | SnapshotBody,
): AnnouncementChange[] {
  const a = context(prev, new Map(), {});
  const b = context(next, new Map(), {});
  const out: AnnouncementChange[] = [];
  for (const p of b.prefixes) {
    const old = a.prefixes.find((x) => x.prefix.text === p.prefix.text);
    const edges = p.entry.kind === 'unicast' ? (p.entry.edge ? [p.entry.edge] : []) : p.entry.announcers;
    for (const edge of edges) {
      const now = announces(b, edge, p);
      const was = old !== undefined && announces(a, edge, old);
      if (now !== was) out.push({ edge, prefix: p.prefix.text, state: now ? 'announced' : 'withdrawn' });
    }
  }
  // Prefixes (or announcers) that disappear from the configuration are withdrawals too.
  for (const p of a.prefixes) {
    const kept = b.prefixes.find((x) => x.prefix.text === p.prefix.text);
    const edges = p.entry.kind === 'unicast' ? (p.entry.edge ? [p.entry.edge] : []) : p.entry.announcers;
    for (const edge of edges) {
      if (kept && isAnnouncer(kept.entry, edge)) continue;
      if (announces(a, edge, p)) out.push({ edge, prefix: p.prefix.text, state: 'withdrawn' });
    }
  }
  return out;
}

/**
 * What the controller checks before publishing: every withdrawal from `prev` to `next`
 * obeys coverage (judged in `next`), no service loses its last route, and, with a history,
 * every changed prefix is within `next`'s route-change budget.
 */
export function checkTransition(
  prev: Snapshot | SnapshotBody,
  next: Snapshot | SnapshotBody,
  ctx: SafetyContext & { history?: readonly RouteChange[]; now?: number } = {},
): SafetyVerdict {
  const changes = announcementChanges(prev, next);
  if (ctx.history) {
    const limit = bodyOf(next).settings.routeChangesPerPrefixPerHour;
    for (const prefix of new Set(changes.map((c) => c.prefix))) {
      const v = checkRouteChangeBudget(ctx.history, prefix, ctx.now ?? Date.now(), limit);
      if (!v.ok) return v;
    }
  }
  const withdrawn = changes
    .filter((c) => c.state === 'withdrawn')
    .map((c) => ({ ...c, prefix: parsePrefix(c.prefix) }));
  return judgeWithdrawals(context(prev, new Map(), ctx), context(next, new Map(), ctx), withdrawn);
}

/** Rules 2 and 3 for one withdrawal: `checkWithdrawal(snapshot, 'lhr', '198.18.4.0/24')`. */
export function checkWithdrawal(
  snapshot: Snapshot | SnapshotBody,
  edge: string,
  prefix: string,
  ctx: SafetyContext = {},
): SafetyVerdict {
  return checkChanges(snapshot, [{ edge, prefix, state: 'withdrawn' }], ctx);
}

/** Max prefixes per session, per address family (sessions carry one family's limit each). */
export function checkMaxPrefixes(
  set: { prefix: Prefix; state: AnnouncementState }[],
  limit = DEFAULT_MAX_PREFIXES_PER_SESSION,
): SafetyVerdict {
  for (const family of [4, 6] as const) {
    const n = set.filter((a) => a.state === 'announced' && a.prefix.family === family).length;
    if (n > limit) {
      return {
        ok: false,
        rule: 'max-prefixes',
        reason: `${n} IPv${family} prefixes exceed the session limit of ${limit}`,
        details: { family, count: n, limit, bits: familyBits(family) },
      };
    }
  }
  return OK;
}

export interface RouteChange {
  prefix: string;
  /** Milliseconds since the epoch. */
  at: number;
}

const HOUR = 3_600_000;

/** Rule 5's budget: fewer than `limit` changes of `prefix` in the hour before `now`. */
export function checkRouteChangeBudget(
  history: readonly RouteChange[],
  prefix: string,
  now: number,
  limit: number,
): SafetyVerdict {
  const text = parsePrefix(prefix).text;
  const recent = history.filter((h) => h.prefix === text && h.at > now - HOUR && h.at <= now);
  if (recent.length < limit) return OK;
  const oldest = Math.min(...recent.map((h) => h.at));
  return {
    ok: false,
    rule: 'route-change-budget',
    reason: `${text} changed ${recent.length} times in the last hour (budget ${limit}/h)`,
    details: { prefix: text, changes: recent.length, limit, retryAt: new Date(oldest + HOUR).toISOString() },
  };
}

/** A bounded in-memory history of route changes, for processes that keep their own (edge agent). */
export class RouteChangeLog {
  readonly #entries: RouteChange[] = [];
  record(prefix: string, at = Date.now()): void {
    this.#entries.push({ prefix: parsePrefix(prefix).text, at });
    this.prune(at);
  }
  prune(now = Date.now()): void {
    while (this.#entries.length > 0 && (this.#entries[0]?.at ?? now) <= now - HOUR) this.#entries.shift();
  }
  entries(): readonly RouteChange[] {
    return this.#entries;
  }
  check(prefix: string, limit: number, now = Date.now()): SafetyVerdict {
    return checkRouteChangeBudget(this.#entries, prefix, now, limit);
  }
}
