import {
  type ActionKind,
  type ActiveAction,
  agentReportStaleMs,
  DEFAULT_GUE_PORT,
  DEFAULT_LOAD_STALE_MS,
  DEFAULT_SETTINGS,
  DEFAULT_WATERMARKS,
  edgeUsable,
  edgeWatermarks,
  effectiveThreshold,
  type NormalConfig,
  OVERRIDE_ACTIONS,
  type SnapshotAnnouncement,
  type SnapshotBody,
  type SnapshotDsr,
  type SnapshotEdge,
  type SnapshotObserved,
  type SnapshotSettings,
} from '@catchment/core';
import { eq, sql } from 'drizzle-orm';
import { readActiveActions } from './actions.ts';
import { exportConfig } from './config-export.ts';
import { type Db, rowsOf } from './connection.ts';
import { dnssecEnabled, type KeyRow, liveKeys, snapshotDnssec } from './dnssec.ts';
import { compileObserved } from './observed.ts';
import { compilePins } from './pins.ts';
import * as t from './schema.ts';

/** Actions in force at `now`, in the order they apply (actions.ts `readActiveActions`). */
export async function activeActions(db: Pick<Db, 'select'>, now = new Date()): Promise<ActiveAction[]> {
  return (await readActiveActions(db, now)).map((a) => ({
    id: a.id,
    kind: a.kind,
    edge: a.edge,
    params: a.params,
    createdAt: a.createdAt,
    expiresAt: a.expiresAt,
    source: a.source,
    reason: a.reason,
  }));
}

export interface CompileOptions {
  /** A load report older than this is left out: the edge's load is unknown (default DEFAULT_LOAD_STALE_MS). */
  loadStaleMs?: number;
}

/**
 * Each edge's last load report, with the watermark percentage of that edge in the snapshot
 * published last before the report: the share of its client blocks DNS answered elsewhere
 * while the load was measured (the load excludes them). A function of stored rows only, so
 * compiling twice gives the same body: a publication does not change what it was built from.
 */
async function readLoads(db: Db): Promise<{ name: string; rps: number; reportedAt: Date; inEffect: number }[]> {
  const rows = rowsOf<{ name: string; rps: number; reported_at: string | Date; in_effect: number | null }>(
    // Each snapshot body is read once, however many edges reported under it.
    await db.execute(sql`
      with l as (
        select e.name, l.rps, l.reported_at,
          (select version from ${t.snapshots} where created_at <= l.reported_at order by version desc limit 1) as v
        from ${t.edgeLoads} l join ${t.edges} e on e.id = l.edge_id
      ), p as (
        select s.version, x->>'name' as name, (x->'watermarks'->>'percent')::float8 as percent
        from ${t.snapshots} s, jsonb_array_elements(s.body->'edges') x
        where s.version in (select v from l where v is not null)
      )
      select l.name, l.rps, l.reported_at, p.percent as in_effect
      from l left join p on p.version = l.v and p.name = l.name`),
  );
  return rows.map((r) => ({
    name: r.name,
    rps: Number(r.rps),
    reportedAt: new Date(r.reported_at),
    inEffect: Number(r.in_effect ?? 0),
  }));
}

/** Reads the database and compiles the snapshot body (pure part: `compileBody`). */
export async function compileSnapshot(db: Db, now = new Date(), opts: CompileOptions = {}): Promise<SnapshotBody> {
  const [config, actions, loads, keys, agents] = await Promise.all([
    exportConfig(db),
    activeActions(db, now),
    readLoads(db),
    liveKeys(db),
    db
      .select({
        name: t.consumers.name,
        edge: t.consumers.edge,
        healthy: t.consumers.healthy,
        details: t.consumers.details,
        reportedAt: t.consumers.reportedAt,
      })
      .from(t.consumers)
      .where(eq(t.consumers.kind, 'edge')),
  ]);
  const loadByEdge = new Map<string, number>();
  const inEffect = new Map<string, number>();
  const loadReportedAt = new Map<string, string>();
  // Staleness is applied here, once: every consumer of the body sees the same loads.
  const staleBefore = now.getTime() - (opts.loadStaleMs ?? DEFAULT_LOAD_STALE_MS);
  for (const l of loads) {
    if (l.reportedAt.getTime() < staleBefore) continue;
    loadByEdge.set(l.name, l.rps);
    inEffect.set(l.name, l.inEffect);
    loadReportedAt.set(l.name, l.reportedAt.toISOString());
  }
  const settings = { ...DEFAULT_SETTINGS, ...config.settings };
  const observed = compileObserved(
    config.edges.map((e) => e.name),
    agents,
    now,
    agentReportStaleMs(settings),
  );
  return compileBody(config, actions, loadByEdge, keys, { observed, inEffect, loadReportedAt });
}

const OBSERVED_NONE: SnapshotObserved = {
  reportedAt: null,
  healthy: false,
  problems: ['no agent has reported'],
  exported: null,
};

/** Stable 32-bit seed per edge, so the DSR flow hash does not change between snapshots. */
function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const latestOf = (actions: ActiveAction[], kind: ActionKind, edge: string | null) =>
  actions.filter((a) => a.kind === kind && a.edge === edge).at(-1);

/**
 * The snapshot body from the configuration, the active actions and the reported loads.
 * Pure: the same inputs always give the same body (and so the same checksum).
 */
export function compileBody(
  config: NormalConfig,
  actions: ActiveAction[],
  loads: Map<string, number> = new Map(),
  keys: KeyRow[] = [],
  measured: {
    /** The agents' observations per edge (observed.ts); absent: the body carries none. */
    observed?: Map<string, SnapshotObserved>;
    /** Per edge: the watermark percentage DNS applied while its load was measured (readLoads). */
    inEffect?: Map<string, number>;
    /** Per edge: when its load (in `loads`) was reported. */
    loadReportedAt?: Map<string, string>;
  } = {},
): SnapshotBody {
  const settings: SnapshotSettings = { ...DEFAULT_SETTINGS, ...config.settings };
  const defaultMarks = settings.watermarks ?? DEFAULT_WATERMARKS;
  const { observed, inEffect, loadReportedAt } = measured;

  const edges: SnapshotEdge[] = config.edges.map((e) => {
    const overrideAction = actions.filter((a) => a.edge === e.name && a.kind in OVERRIDE_ACTIONS).at(-1);
    const override = overrideAction
      ? OVERRIDE_ACTIONS[overrideAction.kind as keyof typeof OVERRIDE_ACTIONS]
      : (e.override ?? 'none');
    const state = e.state ?? 'active';
    const shift = latestOf(actions, 'dns-shift', e.name)?.params as
      | { percent?: number; targets?: string[] }
      | undefined;
    const loadRps = loads.get(e.name) ?? null;
    const threshold = effectiveThreshold(e.name, config.slos);
    const marks = e.watermarks ?? defaultMarks;
    return {
      name: e.name,
      lat: e.location.lat,
      lon: e.location.lon,
      country: e.location.country,
      continent: e.location.continent,
      region: e.location.region ?? null,
      capacityRps: e.capacity.rps,
      state,
      override,
      usable: edgeUsable({ state, override }),
      loadRps,
      ...(loadRps !== null && loadReportedAt?.has(e.name) ? { loadReportedAt: loadReportedAt.get(e.name) } : {}),
      utilisation: loadRps === null ? null : loadRps / e.capacity.rps,
      threshold,
      shiftPercent: override === 'drain' ? 100 : (shift?.percent ?? 0),
      shiftTargets: shift?.targets ?? [],
      dsrAddress: e.dsrAddress ?? null,
      ...(observed ? { observed: observed.get(e.name) ?? OBSERVED_NONE } : {}),
      ...(marks === false
        ? {}
        : {
            watermarks: edgeWatermarks(
              { capacityRps: e.capacity.rps, loadRps, threshold },
              marks,
              inEffect?.get(e.name) ?? 0,
            ),
          }),
    };
  });
  const edgeByName = new Map(edges.map((e) => [e.name, e]));

  // An edge announces while it serves traffic: not down, not in maintenance, not forced down.
  const announcing = (name: string) => {
    const e = edgeByName.get(name);
    if (!e) return { ok: false, reason: 'unknown edge' };
    if (e.override === 'force-down') return { ok: false, reason: 'edge forced down' };
    if (e.override !== 'force-up' && (e.state === 'down' || e.state === 'maintenance')) {
      return { ok: false, reason: `edge ${e.state}` };
    }
    return { ok: true, reason: null };
  };
  const communityActions = (edge: string, prefix: string) =>
    actions
      .filter((a) => a.kind === 'communities' && a.edge === edge)
      .filter((a) => !a.params.prefix || a.params.prefix === prefix);
  // Without a transit: on the route (every session). With one: that transit's sessions only.
  const extraCommunities = (edge: string, prefix: string) =>
    communityActions(edge, prefix)
      .filter((a) => !a.params.transit)
      .flatMap((a) => a.params.communities as string[]);
  const transitCommunities = (edge: string, prefix: string) => {
    const out: Record<string, string[]> = {};
    for (const a of communityActions(edge, prefix)) {
      const tr = a.params.transit as string | undefined;
      if (!tr) continue;
      out[tr] = [...new Set([...(out[tr] ?? []), ...(a.params.communities as string[])])];
    }
    return out;
  };

  const announcements: SnapshotAnnouncement[] = [];
  for (const p of config.prefixes) {
    const announcers = p.kind === 'unicast' ? [p.edge] : p.announcers;
    for (const edge of announcers) {
      const live = announcing(edge);
      const withdrawal =
        p.kind === 'unicast'
          ? actions.filter((a) => a.kind === 'withdraw-unicast' && a.edge === edge && a.params.prefix === p.cidr).at(-1)
          : undefined;
      const communities = [...new Set([...(p.communities ?? []), ...extraCommunities(edge, p.cidr)])];
      const perTransit = transitCommunities(edge, p.cidr);
      announcements.push({
        edge,
        prefix: p.cidr,
        state: live.ok && !withdrawal ? 'announced' : 'withdrawn',
        communities,
        ...(Object.keys(perTransit).length > 0 ? { transitCommunities: perTransit } : {}),
        reason: !live.ok ? live.reason : withdrawal ? `action ${withdrawal.id}` : null,
      });
    }
  }

  const dsr: SnapshotDsr[] = edges.map((e) => {
    const shed = latestOf(actions, 'dsr-shed', e.name)?.params as { fraction?: number; targets?: string[] } | undefined;
    const vips = config.services.flatMap((s) => {
      const a = s.addresses[e.name];
      const addrs = [...(a?.v4 ?? []), ...(a?.v6 ?? [])];
      return addrs.flatMap((address) => (s.ports ?? [80, 443]).map((port) => ({ address, port })));
    });
    // Targets: the named ones, else every other usable edge with a DSR address,
    // weighted by headroom (never everything onto one edge).
    const candidates = (shed?.targets ?? edges.filter((o) => o.name !== e.name).map((o) => o.name))
      .map((n) => edgeByName.get(n))
      .filter((o): o is SnapshotEdge => !!o && o.name !== e.name && o.usable && !!o.dsrAddress);
    const targets = shed
      ? candidates.map((o) => ({
          edge: o.name,
          address: o.dsrAddress as string,
          weight: Math.max(1, Math.round(100 * (1 - Math.min(1, o.utilisation ?? 0)))),
        }))
      : [];
    const fraction = shed && targets.length > 0 ? Math.min(65536, Math.round((shed.fraction ?? 0) * 65536)) : 0;
    const conf = config.edges.find((c) => c.name === e.name)?.dsr;
    return {
      edge: e.name,
      enabled: fraction > 0,
      fraction,
      targets,
      vips,
      seed: seedOf(e.name),
      encap: conf?.encap ?? 'ipip',
      guePort: conf?.guePort ?? DEFAULT_GUE_PORT,
      clientPrefixes: conf?.clientPrefixes ?? [],
    };
  });

  const services = config.services.map((s) => ({
    name: s.name,
    zone: s.zone,
    ttl: s.ttl ?? 30,
    policy: s.policy ?? null,
    ports: s.ports ?? [80, 443],
    anycast: { v4: s.anycast.v4 ?? null, v6: s.anycast.v6 ?? null },
    addresses: Object.entries(s.addresses).map(([edge, a]) => ({ edge, v4: a.v4 ?? [], v6: a.v6 ?? [] })),
  }));

  const zones = config.zones.map((z) => ({
    name: z.name,
    ttl: z.ttl ?? 3600,
    soa: z.soa,
    ns: z.ns.map((n) => n.replace(/\.$/, '')),
    records: (z.records ?? []).map((r) => ({
      name: r.name === '@' ? z.name : r.name.endsWith('.') ? r.name.slice(0, -1) : `${r.name}.${z.name}`,
      type: r.type,
      ttl: r.ttl ?? z.ttl ?? 3600,
      value: r.value,
    })),
    ...(dnssecEnabled(z.dnssec) && keys.some((k) => k.zone === z.name)
      ? {
          dnssec: snapshotDnssec(
            z.dnssec,
            keys.filter((k) => k.zone === z.name),
          ),
        }
      : {}),
  }));

  const freezes = actions.filter((a) => a.kind === 'freeze');
  const pins = compilePins(actions, edgeByName);
  return {
    zones,
    edges,
    services,
    policies: config.policies.map((p) => ({ name: p.name, rules: p.rules })),
    prefixes: config.prefixes.map((p) => ({
      cidr: p.cidr,
      kind: p.kind,
      edge: p.kind === 'unicast' ? p.edge : null,
      announcers: p.kind === 'unicast' ? [p.edge] : p.announcers,
      supernet: p.kind === 'unicast' ? (p.supernet ?? null) : null,
      communities: p.communities ?? [],
    })),
    announcements,
    transits: config.transits.map((tr) => ({ name: tr.name, asn: tr.asn, intents: tr.intents })),
    dsr,
    automation: {
      frozen: freezes.some((f) => f.edge === null),
      frozenEdges: [...new Set(freezes.flatMap((f) => (f.edge ? [f.edge] : [])))].sort(),
    },
    settings,
    // Only when there are some, so bodies without pins stay as they were (same checksums).
    ...(pins.length > 0 ? { pins } : {}),
  };
}
