import {
  DEFAULT_SETTINGS,
  DnsBlockReport,
  isActionKind,
  type SnapshotBody,
  type SnapshotSettings,
} from '@catchment/core';
import { compileSnapshot, type Db, schema } from '@catchment/db';
import type {
  RouteChange,
  SafetyAction,
  SafetyEdge,
  SafetyPrefix,
  SafetyService,
  SafetyWorld,
} from '@catchment/safety';
import { and, eq, gt, isNull, or } from 'drizzle-orm';
import { Value } from 'typebox/value';

/**
 * Everything the planner and the safety rules need, read from the database in one
 * go at the start of a tick (the controller never reads in the middle of a decision).
 */
export interface TrafficModel {
  /** Per edge: DNS answers per client block, summed over every DNS server's last report. */
  answers: Map<string, Map<string, number>>;
}

export interface ControllerWorld extends SafetyWorld {
  edgeIds: Map<string, number>;
  edgeNames: Map<number, string>;
  prefixIds: Map<string, number>;
  /** Transit name → intent → community values. */
  transits: Map<string, Record<string, string[]>>;
  traffic: TrafficModel;
  /** The snapshot body the current state compiles to (for @catchment/routing's rules). */
  body?: SnapshotBody;
}

export interface ModelOptions {
  /** A load report older than this is ignored (the edge's load is then unknown). */
  loadStaleMs: number;
  /** Utilisation threshold of a target without a utilisation SLO. */
  defaultThreshold: number;
}

const ROUTE_KINDS = new Set(['withdraw-unicast', 'communities']);

export async function loadWorld(db: Db, now: Date, opts: ModelOptions): Promise<ControllerWorld> {
  const [edgeRows, loadRows, sloRows, prefixRows, announcerRows, serviceRows, addressRows, transitRows, settingsRows] =
    await Promise.all([
      db.select().from(schema.edges),
      db.select().from(schema.edgeLoads),
      db.select().from(schema.slos).where(eq(schema.slos.metric, 'utilisation')),
      db.select().from(schema.prefixes),
      db.select().from(schema.prefixAnnouncers),
      db.select().from(schema.services),
      db
        .select({ serviceId: schema.serviceAddresses.serviceId, edgeId: schema.serviceAddresses.edgeId })
        .from(schema.serviceAddresses),
      db.select().from(schema.transits),
      db.select().from(schema.settings),
    ]);
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const [activeRows, recentRouteRows, dnsReports, body] = await Promise.all([
    db
      .select()
      .from(schema.actions)
      .where(
        and(isNull(schema.actions.revertedAt), or(isNull(schema.actions.expiresAt), gt(schema.actions.expiresAt, now))),
      ),
    db
      .select()
      .from(schema.actions)
      .where(
        or(
          gt(schema.actions.createdAt, hourAgo),
          gt(schema.actions.revertedAt, hourAgo),
          and(gt(schema.actions.expiresAt, hourAgo), isNull(schema.actions.revertedAt)),
        ),
      ),
    db.select().from(schema.consumers).where(eq(schema.consumers.kind, 'dns')),
    compileSnapshot(db, now),
  ]);

  const edgeNames = new Map(edgeRows.map((e) => [e.id, e.name]));
  const edgeIds = new Map(edgeRows.map((e) => [e.name, e.id]));
  const thresholds = new Map<number | null, number>();
  for (const s of sloRows) thresholds.set(s.edgeId, s.enterThreshold);
  const loads = new Map(loadRows.map((l) => [l.edgeId, l]));
  const prefixById = new Map(prefixRows.map((p) => [p.id, p]));
  const prefixes: SafetyPrefix[] = prefixRows.map((p) => ({
    cidr: p.cidr,
    kind: p.kind,
    edge: p.edgeId === null ? null : (edgeNames.get(p.edgeId) ?? null),
    announcers:
      p.kind === 'unicast'
        ? [edgeNames.get(p.edgeId ?? -1) ?? '']
        : announcerRows.filter((a) => a.prefixId === p.id).map((a) => edgeNames.get(a.edgeId) ?? ''),
    supernet: p.supernetId === null ? null : (prefixById.get(p.supernetId)?.cidr ?? null),
  }));

  const toSafety = (a: typeof schema.actions.$inferSelect): SafetyAction | undefined => {
    if (!isActionKind(a.kind)) return undefined;
    const prefixCidr = a.prefixId !== null ? prefixById.get(a.prefixId)?.cidr : undefined;
    const params = (a.params ?? {}) as Record<string, unknown>;
    return {
      id: a.id,
      kind: a.kind,
      edge: a.edgeId === null ? null : (edgeNames.get(a.edgeId) ?? null),
      prefix: prefixCidr ?? (typeof params.prefix === 'string' ? params.prefix : null),
      source: a.source === 'operator' ? 'operator' : 'automation',
      params,
      runId: a.runId,
    };
  };
  const actions = activeRows.map(toSafety).filter((a): a is SafetyAction => a !== undefined);

  // Operator overrides set by actions (drain, force-down, force-up) beat the configured one; the latest wins.
  const overrides = new Map<number, SafetyEdge['override']>();
  for (const a of [...activeRows].sort((x, y) => x.id - y.id)) {
    if (a.edgeId !== null && (a.kind === 'drain' || a.kind === 'force-down' || a.kind === 'force-up'))
      overrides.set(a.edgeId, a.kind);
  }
  const edges: SafetyEdge[] = edgeRows.map((e) => {
    const load = loads.get(e.id);
    const fresh = load && now.getTime() - load.reportedAt.getTime() <= opts.loadStaleMs;
    return {
      name: e.name,
      capacityRps: e.capacityRps,
      loadRps: fresh ? load.rps : null,
      state: e.state,
      override: overrides.get(e.id) ?? e.override,
      threshold: thresholds.get(e.id) ?? thresholds.get(null) ?? opts.defaultThreshold,
      dsrAddress: e.dsrAddress,
    };
  });

  const routeChanges: RouteChange[] = [];
  for (const row of recentRouteRows) {
    if (!ROUTE_KINDS.has(row.kind)) continue;
    const a = toSafety(row);
    if (!a) continue;
    const touched = routePrefixesOf(a, prefixes);
    const times = [row.createdAt, row.revertedAt ?? (row.expiresAt && row.expiresAt <= now ? row.expiresAt : null)];
    for (const at of times) {
      if (at && at > hourAgo) for (const prefix of touched) routeChanges.push({ prefix, at });
    }
  }

  const services: SafetyService[] = serviceRows.map((s) => ({
    name: s.name,
    edges: [...new Set(addressRows.filter((a) => a.serviceId === s.id).map((a) => edgeNames.get(a.edgeId) ?? ''))],
    anycast: s.anycastV4 !== null || s.anycastV6 !== null,
  }));

  const settings: SnapshotSettings = {
    ...DEFAULT_SETTINGS,
    ...((settingsRows[0]?.values ?? {}) as Partial<SnapshotSettings>),
  };

  const answers = new Map<string, Map<string, number>>();
  for (const c of dnsReports) {
    if (!Value.Check(DnsBlockReport, c.details)) continue;
    for (const a of c.details.blocks) {
      if (a.edge === null) continue;
      const perEdge = answers.get(a.edge) ?? new Map<string, number>();
      perEdge.set(a.block, (perEdge.get(a.block) ?? 0) + a.answers);
      answers.set(a.edge, perEdge);
    }
  }

  return {
    now,
    settings,
    edges,
    actions,
    prefixes,
    services,
    routeChanges,
    edgeIds,
    edgeNames,
    prefixIds: new Map(prefixRows.map((p) => [p.cidr, p.id])),
    transits: new Map(transitRows.map((t) => [t.name, t.intents as Record<string, string[]>])),
    traffic: { answers },
    body,
  };
}

/** Prefixes whose announcement an action changes (withdrawals and community changes). */
export function routePrefixesOf(a: SafetyAction, prefixes: SafetyPrefix[]): string[] {
  if (a.kind === 'withdraw-unicast') return a.prefix ? [a.prefix] : [];
  if (a.kind !== 'communities') return [];
  if (typeof a.params.prefix === 'string') return [a.params.prefix];
  return prefixes
    .filter((p) => (p.kind === 'unicast' ? p.edge === a.edge : p.announcers.includes(a.edge ?? '')))
    .map((p) => p.cidr);
}
