import { isDnsBlockReport, type SnapshotBody, type World, type WorldEdge } from '@catchment/core';
import { eq } from 'drizzle-orm';
import { readActiveActions, readRouteSpans } from './actions.ts';
import { type CompileOptions, compileSnapshot } from './compile.ts';
import type { Db } from './connection.ts';
import { routeChanges } from './route-history.ts';
import * as t from './schema.ts';

/** The world, and the ids the controller writes actions with. */
export interface ReadWorld extends World {
  body: SnapshotBody;
  answers: Map<string, Map<string, number>>;
  edgeIds: Map<string, number>;
  edgeNames: Map<number, string>;
  prefixIds: Map<string, number>;
}

export interface ReadWorldOptions extends CompileOptions {
  /** The body already compiled at `now` in the same transaction (saves compiling twice). */
  body?: SnapshotBody;
}

/**
 * The one reader of the world for decisions (operator actions in the API, playbook
 * steps in the controller). Everything comes from the compiled snapshot body, so each
 * number is the one DNS servers and edge agents see: edges with their usable state,
 * fresh loads (staleness applied once, by the compiler), the effective SLO threshold,
 * overrides set by actions; prefixes, announcements and services. Then the active
 * actions in the order they apply, the real route-change transitions of the last hour
 * per prefix, and the DNS servers' answers per client block.
 */
export async function readWorld(db: Db, now: Date, opts: ReadWorldOptions = {}): Promise<ReadWorld> {
  const [body, actions, spans, dnsReports, edgeRows, prefixRows] = await Promise.all([
    opts.body ?? compileSnapshot(db, now, opts),
    readActiveActions(db, now),
    readRouteSpans(db, now),
    db.select().from(t.consumers).where(eq(t.consumers.kind, 'dns')),
    db.select({ id: t.edges.id, name: t.edges.name }).from(t.edges),
    db.select({ id: t.prefixes.id, cidr: t.prefixes.cidr }).from(t.prefixes),
  ]);
  const edges: WorldEdge[] = body.edges.map((e) => ({
    name: e.name,
    capacityRps: e.capacityRps,
    loadRps: e.loadRps,
    ...(e.loadReportedAt ? { loadReportedAt: e.loadReportedAt } : {}),
    state: e.state,
    override: e.override,
    threshold: e.threshold,
    dsrAddress: e.dsrAddress,
    ...(e.watermarks ? { watermarks: e.watermarks } : {}),
    lat: e.lat,
    lon: e.lon,
    ...(e.observed ? { observed: e.observed } : {}),
  }));
  const prefixes = body.prefixes.map((p) => ({
    cidr: p.cidr,
    kind: p.kind,
    edge: p.edge,
    announcers: p.announcers,
    supernet: p.supernet,
  }));
  const services = body.services.map((s) => ({
    name: s.name,
    edges: s.addresses.filter((a) => a.v4.length + a.v6.length > 0).map((a) => a.edge),
    anycast: s.anycast.v4 !== null || s.anycast.v6 !== null,
  }));
  const answers = new Map<string, Map<string, number>>();
  for (const c of dnsReports) {
    if (!isDnsBlockReport(c.details)) continue;
    for (const a of c.details.blocks) {
      if (a.edge === null) continue;
      const perEdge = answers.get(a.edge) ?? new Map<string, number>();
      perEdge.set(a.block, (perEdge.get(a.block) ?? 0) + a.answers);
      answers.set(a.edge, perEdge);
    }
  }
  return {
    now,
    settings: body.settings,
    edges,
    actions: actions.map(({ createdAt: _c, expiresAt: _e, ...a }) => a),
    prefixes,
    services,
    routeChanges: routeChanges(spans, prefixes, now),
    body,
    answers,
    edgeIds: new Map(edgeRows.map((e) => [e.name, e.id])),
    edgeNames: new Map(edgeRows.map((e) => [e.id, e.name])),
    prefixIds: new Map(prefixRows.map((p) => [p.cidr, p.id])),
  };
}
