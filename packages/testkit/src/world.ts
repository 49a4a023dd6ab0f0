import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { announcementCommunities, type CatchmentConfig, type PlaybookConfig } from '@catchment/core';
import { compileSnapshot, type Db, importConfig, schema } from '@catchment/db';
import { eq, sql } from 'drizzle-orm';
import { parse } from 'yaml';

/** The demo's edges: fra, iad, sin announce the supernets; lhr, gru, syd are small. */
export const EDGES = [
  { name: 'fra', capacityRps: 100_000, country: 'DE', continent: 'EU', dsr: '198.19.0.11', big: true },
  { name: 'iad', capacityRps: 120_000, country: 'US', continent: 'NA', dsr: '198.19.0.12', big: true },
  { name: 'sin', capacityRps: 80_000, country: 'SG', continent: 'AS', dsr: '198.19.0.13', big: true },
  { name: 'lhr', capacityRps: 30_000, country: 'GB', continent: 'EU', dsr: '198.19.0.14', big: false },
  { name: 'gru', capacityRps: 20_000, country: 'BR', continent: 'SA', dsr: '198.19.0.15', big: false },
  { name: 'syd', capacityRps: 20_000, country: 'AU', continent: 'OC', dsr: '198.19.0.16', big: false },
] as const;

export type EdgeName = (typeof EDGES)[number]['name'];

export const STEPS: PlaybookConfig['steps'] = [
  { kind: 'dns-shift', schedule: [10, 25, 50], verify: { within: '2m' }, dwell: '5m' },
  { kind: 'withdraw-unicast', verify: { within: '2m' }, dwell: '10m' },
  { kind: 'communities', transit: 'transit-a', intents: ['prepend-2x'], verify: { within: '2m' }, dwell: '10m' },
  { kind: 'dsr-shed', fraction: 0.25, verify: { within: '1m' }, dwell: '5m' },
  { kind: 'notify', message: 'edge still overloaded after every step' },
];

const demoText = await readFile(new URL('../../../config/demo.yaml', import.meta.url), 'utf8');

/**
 * The demo configuration (config/demo.yaml), imported the way operators import it, but
 * without its playbook: each test adds the playbooks it needs.
 */
export async function seedWorld(
  db: Db,
  opts: { settings?: Record<string, unknown>; edit?: (config: CatchmentConfig) => void } = {},
): Promise<Map<string, number>> {
  const config = parse(demoText) as CatchmentConfig;
  delete config.playbooks;
  opts.edit?.(config);
  if (opts.settings) config.settings = { ...config.settings, ...opts.settings };
  await importConfig(db, config, { actor: 'test' });
  const rows = await db.select({ id: schema.edges.id, name: schema.edges.name }).from(schema.edges);
  return new Map(rows.map((r) => [r.name, r.id]));
}

export async function addPlaybook(
  db: Db,
  pb: {
    name: string;
    mode?: 'auto' | 'approve' | 'dry-run';
    trigger: PlaybookConfig['trigger'];
    steps?: PlaybookConfig['steps'];
    cooldown?: string;
  },
): Promise<number> {
  const [row] = await db
    .insert(schema.playbooks)
    .values({
      name: pb.name,
      mode: pb.mode ?? 'auto',
      trigger: pb.trigger,
      steps: pb.steps ?? STEPS,
      cooldown: pb.cooldown ?? null,
    })
    .returning({ id: schema.playbooks.id });
  return row?.id ?? 0;
}

/**
 * Edge agents' load reports, stamped with the (fake) clock; like real agents' reports, each
 * carries the agent's observation (reportObserved): healthy, exporting what the edge announces
 * (`obey: false`: what its configuration gives it, whatever the actions say). `observed: false`
 * sends the load alone.
 */
export async function reportLoads(
  db: Db,
  ids: Map<string, number>,
  loads: Partial<Record<EdgeName, number>>,
  now: Date,
  opts: { observed?: boolean; obey?: boolean } = {},
) {
  for (const [name, rps] of Object.entries(loads)) {
    const edgeId = ids.get(name) ?? 0;
    await db
      .insert(schema.edgeLoads)
      .values({ edgeId, rps, reportedAt: now })
      .onConflictDoUpdate({ target: schema.edgeLoads.edgeId, set: { rps, reportedAt: now } });
  }
  if (opts.observed !== false)
    await reportObserved(db, Object.keys(loads), now, opts.obey === false ? { obey: false } : {});
}

/** One exported route of a fake agent's session. */
export interface ObservedRoute {
  prefix: string;
  communities: string[];
}

/**
 * An edge agent's `details.observed` (apps/edge observation.ts) for tests without BIRD: one
 * session `transit`, established (unless told otherwise) and exporting `exported`, and the
 * DSR state its XDP applier would report (`dsr`, fraction 0-1).
 */
export function agentObservation(opts: {
  exported: readonly (string | ObservedRoute)[];
  now?: Date;
  problems?: string[];
  established?: boolean;
  dsr?: { enabled: boolean; fraction: number } | null;
}) {
  const problems = opts.problems ?? [];
  const established = opts.established ?? true;
  const at = (opts.now ?? new Date()).toISOString();
  return {
    readAt: at,
    speaker: 'test',
    readable: true,
    error: null,
    sessions: [
      {
        name: 'transit',
        established,
        state: established ? 'Established' : 'Active',
        info: '',
        exported: established
          ? opts.exported.map((r) => (typeof r === 'string' ? { prefix: r, communities: [] as string[] } : r))
          : [],
      },
    ],
    checks: [],
    appliers: opts.dsr
      ? [
          {
            name: 'xdp',
            ok: true,
            at,
            error: null,
            state: { enabled: opts.dsr.enabled, fraction: Math.round(opts.dsr.fraction * 65536) },
          },
        ]
      : [],
    healthy: problems.length === 0 && established,
    problems: established ? problems : [...problems, 'no established BGP session (transit Active)'],
  };
}

/**
 * What an edge agent reports it observes, for tests without BIRD. By default the agent obeys
 * the present state, as a real agent does once it applied it: its one established session
 * exports what the compiled state announces for the edge (withdrawals gone, communities on,
 * every transit's ones included) and its XDP applier reports the edge's DSR state. `obey:
 * false` is an agent whose speaker and maps ignore every action: it exports every prefix the
 * configuration gives the edge, without communities, and reports no DSR. `exported` names the
 * prefixes outright; `problems` make it unhealthy. The report row is `edge:<name>`.
 */
export async function reportObserved(
  db: Db,
  edges: readonly string[],
  now: Date,
  opts: { exported?: string[]; problems?: string[]; established?: boolean; obey?: boolean } = {},
): Promise<void> {
  const body = opts.obey === false || opts.exported ? undefined : await compileSnapshot(db, now);
  const configured = await db
    .select({ edge: schema.edges.name, cidr: schema.prefixes.cidr })
    .from(schema.prefixes)
    .leftJoin(schema.prefixAnnouncers, eq(schema.prefixAnnouncers.prefixId, schema.prefixes.id))
    .innerJoin(
      schema.edges,
      sql`${schema.edges.id} = coalesce(${schema.prefixes.edgeId}, ${schema.prefixAnnouncers.edgeId})`,
    );
  for (const edge of edges) {
    const routes: (string | ObservedRoute)[] =
      opts.exported ??
      (body
        ? body.announcements
            .filter((a) => a.edge === edge && a.state === 'announced')
            .map((a) => ({
              prefix: a.prefix,
              communities: announcementCommunities(a),
            }))
        : configured.filter((r) => r.edge === edge).map((r) => r.cidr));
    const dsr = body?.dsr.find((d) => d.edge === edge);
    const observed = agentObservation({
      exported: routes,
      now,
      ...(opts.problems ? { problems: opts.problems } : {}),
      ...(opts.established === undefined ? {} : { established: opts.established }),
      ...(body ? { dsr: dsr ? { enabled: dsr.enabled, fraction: dsr.fraction / 65536 } : null } : {}),
    });
    const row = {
      kind: 'edge',
      edge,
      snapshotVersion: null,
      healthy: observed.healthy,
      details: { observed },
      reportedAt: now,
    };
    await db
      .insert(schema.consumers)
      .values({ name: `edge:${edge}`, ...row })
      .onConflictDoUpdate({ target: schema.consumers.name, set: row });
  }
}

export const NORMAL_LOADS: Record<EdgeName, number> = {
  fra: 40_000,
  iad: 50_000,
  sin: 30_000,
  lhr: 28_000,
  gru: 8_000,
  syd: 8_000,
};

/** The API's Alertmanager intake, as rows: one alert per edge, firing or resolved. */
export async function setAlert(
  db: Db,
  ids: Map<string, number>,
  edge: string,
  status: 'firing' | 'resolved',
  now: Date,
  alertname = 'EdgeOverloaded',
) {
  const fingerprint = `${alertname}/${edge}`;
  const existing = await db.select().from(schema.signals).where(eq(schema.signals.fingerprint, fingerprint));
  const open = existing.find((s) => s.status === 'firing');
  if (status === 'firing') {
    if (open) return;
    await db.insert(schema.signals).values({
      source: 'alertmanager',
      fingerprint,
      name: alertname,
      edgeId: ids.get(edge) ?? null,
      status: 'firing',
      labels: { alertname, edge, severity: 'page' },
      startsAt: now,
      receivedAt: now,
      updatedAt: now,
    });
  } else if (open) {
    await db
      .update(schema.signals)
      .set({ status: 'resolved', endsAt: now, updatedAt: now })
      .where(eq(schema.signals.id, open.id));
  }
}

export class FakeClock {
  t: number;
  constructor(start = Date.parse('2026-11-22T02:00:00Z')) {
    this.t = start;
  }
  now = (): Date => new Date(this.t);
  advance(ms: number): Date {
    this.t += ms;
    return this.now();
  }
}

export const MIN = 60_000;

/** A chat webhook on 127.0.0.1 that records what it receives. */
export async function webhookSink(): Promise<{
  url: string;
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}> {
  const bodies: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      try {
        bodies.push(JSON.parse(data));
      } catch {
        bodies.push({ invalid: data });
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks/test`,
    bodies,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export async function activeActions(db: Db) {
  return db.select().from(schema.actions).where(sql`${schema.actions.revertedAt} is null`);
}
