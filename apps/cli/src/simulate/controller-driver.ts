import { Controller } from '@catchment/controller';
import { announcementCommunities, type CatchmentConfig, createLogger, type SnapshotBody } from '@catchment/core';
import {
  compileSnapshot,
  type Database,
  type Db,
  importConfig,
  insertAction,
  migrate,
  openDatabase,
  schema,
} from '@catchment/db';
import { observation } from '@catchment/edge';
import { steeringChanged } from '@catchment/geo';
import {
  type Driver,
  type DriverLogEntry,
  type EdgeStateChange,
  type ScenarioModel,
  type StrategyName,
  scriptedDrivers,
} from '@catchment/sim';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';

/** The controller's SLO evaluation schedule (every 15 s); its tick is the scenario's (default 2 s). */
const SLO_S = 15;

/**
 * The real controller, driven by simulated time: an in-memory PGlite database holding the
 * strategy's configuration, edge load reports written as the edge agents would, the
 * monitoring kit's EdgeOverloaded alert delivered as Alertmanager would (over the threshold
 * for `for`, resolved below it), and `Controller.tick()` on the controller's own schedule with
 * a fake clock. Every step is planned, predicted and judged by the controller itself; each
 * publication is compiled by packages/db `compileSnapshot`.
 */
export class ControllerDriver implements Driver {
  readonly #config: CatchmentConfig;
  readonly #model: ScenarioModel;
  #database: Database | undefined;
  #controller: Controller | undefined;
  #now = 0;
  #start = 0;
  #published = false;
  #edgeIds = new Map<string, number>();
  #edgeNames: string[] = [];
  #capacity: number[] = [];
  /** The last body compiled: what each edge's agent sees its speaker export. */
  #body: SnapshotBody | undefined;
  #failed = new Set<string>();
  #overSince: (number | null)[] = [];
  #firing: boolean[] = [];
  #log: DriverLogEntry[] = [];
  #lastStepId = 0;
  #lastLoadCheck = Number.NEGATIVE_INFINITY;
  /** A playbook triggered by an SLO: the controller must tick always (its evaluations decide). */
  #sloTriggered = false;
  ticks = 0;

  readonly #beforeClose: ((db: Db) => Promise<void>) | undefined;

  /** `beforeClose` sees the database as the run left it (tests read runs, stages and actions). */
  constructor(config: CatchmentConfig, model: ScenarioModel, opts: { beforeClose?: (db: Db) => Promise<void> } = {}) {
    this.#config = config;
    this.#model = model;
    this.#beforeClose = opts.beforeClose;
  }

  get db(): Db {
    if (!this.#database) throw new Error('driver not started');
    return this.#database.db;
  }

  async start(at: Date): Promise<SnapshotBody> {
    this.#now = at.getTime();
    this.#start = this.#now;
    const database = await openDatabase({ dataDir: 'memory' });
    this.#database = database;
    await migrate(database);
    await importConfig(database.db, this.#config, { actor: 'simulate' });
    const rows = await database.db.select({ id: schema.edges.id, name: schema.edges.name }).from(schema.edges);
    this.#edgeIds = new Map(rows.map((r) => [r.name, r.id]));
    await this.#standingActions();
    this.#sloTriggered = (this.#config.playbooks ?? []).some((p) => 'slo' in p.trigger);
    this.#controller = new Controller({
      database,
      now: () => new Date(this.#now),
      schedule: false,
      http: false,
      name: 'controller:simulate',
      logger: createLogger('controller', { level: 'silent' }),
      publish: async () => {
        this.#published = true;
      },
    });
    await this.#controller.start();
    const body = await compileSnapshot(database.db, at);
    // `served` comes in the snapshot's edge order (by name), not the configuration's.
    this.#edgeNames = body.edges.map((e) => e.name);
    this.#capacity = body.edges.map((e) => e.capacityRps);
    this.#overSince = this.#edgeNames.map(() => null);
    this.#firing = this.#edgeNames.map(() => false);
    this.#body = body;
    return body;
  }

  /**
   * From now: the actions in force in the installation, written as they are (through the
   * actions table's owner), so the compiler and the judge see the present. Runs are not
   * copied: an action of an open run stands alone here, until its expiry.
   */
  async #standingActions(): Promise<void> {
    const standing = this.#model.fromNow?.actions ?? [];
    if (standing.length === 0) return;
    const db = this.db;
    const prefixes = new Map(
      (await db.select({ id: schema.prefixes.id, cidr: schema.prefixes.cidr }).from(schema.prefixes)).map((p) => [
        p.cidr,
        p.id,
      ]),
    );
    for (const a of standing) {
      const prefix = typeof a.params.prefix === 'string' ? prefixes.get(a.params.prefix) : undefined;
      await insertAction(
        db,
        {
          kind: a.kind,
          edgeId: a.edge === null ? null : (this.#edgeIds.get(a.edge) ?? null),
          prefixId: prefix ?? null,
          params: a.params,
          reason: a.reason ?? 'in force when the simulation started',
          actor: 'simulate:present',
          source: a.source,
          createdAt: a.createdAt,
          expiresAt: a.expiresAt,
        },
        { reason: 'in force when the simulation started', after: a, at: new Date(this.#now) },
      );
    }
  }

  async second(t: number, at: Date, served: Float64Array, changes: EdgeStateChange[]): Promise<SnapshotBody | null> {
    this.#now = at.getTime();
    const db = this.db;
    for (const c of changes) {
      await db.update(schema.edges).set({ state: c.state }).where(eq(schema.edges.name, c.edge));
      if (c.state === 'down') this.#failed.add(c.edge);
      else this.#failed.delete(c.edge);
      this.#log.push({ t: t + 1, text: `${c.edge} ${c.state === 'down' ? 'failed' : 'is back'}` });
      this.#published = true;
    }
    const s = t + 1;
    this.#alerts(s, served);
    if (s % this.#model.controllerTickS === 0) {
      await this.#report(at, served);
      await this.#loadPublication(s, at);
      const alertChanged = await this.#deliverAlerts(at);
      if (this.#sloTriggered && s % SLO_S === 0) await this.#controller!.slo.evaluate();
      if (this.#sloTriggered || alertChanged || this.#firing.some(Boolean) || (await this.#runOpen())) {
        await this.#controller!.tick();
        this.ticks++;
        await this.#readDecisions(s);
      }
    }
    if (!this.#published) return null;
    this.#published = false;
    this.#body = await compileSnapshot(db, at);
    return this.#body;
  }

  /**
   * The API's load-only publications (apps/api LoadPublisher): a load report asks for one, at most
   * one per interval, published only when the DNS answers would change (packages/geo
   * `steeringChanged`, the API's own test). Off unless the scenario sets the interval.
   */
  async #loadPublication(s: number, at: Date): Promise<void> {
    const every = this.#model.loadPublishIntervalS;
    if (every === null || !this.#body || s - this.#lastLoadCheck < every) return;
    this.#lastLoadCheck = s;
    if (steeringChanged(this.#body, await compileSnapshot(this.db, at))) {
      this.#published = true;
      this.#log.push({ t: s, text: 'load-only publication' });
    }
  }

  /**
   * Idle: no alert fires and no run is open, so a tick would start nothing and advance nothing
   * (and no automation action is left to expire). Skipping it changes no decision and saves most
   * of a long scenario's time; with SLO-triggered playbooks every tick runs.
   */
  async #runOpen(): Promise<boolean> {
    const open = await this.db
      .select({ id: schema.playbookRuns.id })
      .from(schema.playbookRuns)
      .where(isNull(schema.playbookRuns.endedAt))
      .limit(1);
    return open.length > 0;
  }

  /**
   * The edge agents' reports, as every agent upserts its own rows (one statement each here):
   * the load (edge_loads) and what it observes (consumers `details.observed`, made by the
   * agent's own `observation`): one session exporting what the last snapshot announces at the
   * edge (with its communities), established unless the scenario failed the edge, and the DSR
   * state its XDP maps would hold. Coverage and the stages' verification are judged on it.
   */
  async #report(at: Date, served: Float64Array): Promise<void> {
    const observations = this.#edgeNames.map((name) => {
      const up = !this.#failed.has(name);
      // The one session stands for every transit's: it carries each transit's communities too.
      const exported = (this.#body?.announcements ?? [])
        .filter((a) => a.edge === name && a.state === 'announced')
        .map((a) => ({
          prefix: a.prefix,
          communities: announcementCommunities(a),
        }));
      // What the XDP applier reports once it wrote the snapshot's DSR entry (apps/edge xdp/applier.ts).
      const dsr = this.#body?.dsr.find((d) => d.edge === name);
      // The agent's own rule (apps/edge observation.ts): a failed edge's session is down.
      const observed = observation({
        speaker: 'simulated',
        read: {
          readable: true,
          sessions: [
            {
              name: 'transit',
              established: up,
              state: up ? 'Established' : 'Active',
              info: '',
              exported: up ? exported : [],
            },
          ],
        },
        checks: [],
        appliers: dsr
          ? [
              {
                name: 'xdp',
                ok: true,
                at: at.toISOString(),
                error: null,
                state: { enabled: dsr.enabled, fraction: dsr.fraction, targets: dsr.targets.map((t) => t.edge) },
              },
            ]
          : [],
        lastError: null,
        at,
      });
      return {
        name: `edge:${name}`,
        kind: 'edge',
        edge: name,
        snapshotVersion: null,
        healthy: observed.healthy,
        details: { observed },
        reportedAt: at,
      };
    });
    await this.db
      .insert(schema.consumers)
      .values(observations)
      .onConflictDoUpdate({
        target: schema.consumers.name,
        set: { healthy: sql`excluded.healthy`, details: sql`excluded.details`, reportedAt: sql`excluded.reported_at` },
      });
    const rows = this.#edgeNames.map((name, i) => ({
      edgeId: this.#edgeIds.get(name)!,
      rps: served[i] ?? 0,
      reportedAt: at,
    }));
    await this.db
      .insert(schema.edgeLoads)
      .values(rows)
      .onConflictDoUpdate({
        target: schema.edgeLoads.edgeId,
        set: { rps: sql`excluded.rps`, reportedAt: sql`excluded.reported_at` },
      });
  }

  /**
   * The monitoring kit's alert rule: utilisation over `threshold` for `for`. From now: only the
   * named edge's alert, and an edge over at the start has been over for `for` already (its
   * alert fires now, as it would in the installation).
   */
  #alerts(s: number, served: Float64Array): void {
    const { threshold, forS } = this.#model.alert;
    const only = this.#model.fromNow?.edge;
    for (let i = 0; i < this.#edgeNames.length; i++) {
      const over =
        (only === undefined || this.#edgeNames[i] === only) && (served[i] ?? 0) / this.#capacity[i]! > threshold;
      if (!over) this.#overSince[i] = null;
      else if (this.#overSince[i] === null) this.#overSince[i] = s === 1 && only !== undefined ? s - forS : s;
    }
  }

  /** Alertmanager's deliveries, stored as the API's signal intake stores them. */
  async #deliverAlerts(at: Date): Promise<boolean> {
    let changed = false;
    const db = this.db;
    const { name, forS } = this.#model.alert;
    const s = (at.getTime() - this.#start) / 1000;
    for (let i = 0; i < this.#edgeNames.length; i++) {
      const edge = this.#edgeNames[i]!;
      const since = this.#overSince[i];
      const fire = since !== null && since !== undefined && s - since >= forS;
      const fingerprint = `${name}/${edge}`;
      if (fire && !this.#firing[i]) {
        await db.insert(schema.signals).values({
          source: 'alertmanager',
          fingerprint,
          name,
          edgeId: this.#edgeIds.get(edge) ?? null,
          status: 'firing',
          labels: { alertname: name, edge, severity: 'page' },
          startsAt: at,
          receivedAt: at,
          updatedAt: at,
        });
        this.#firing[i] = true;
        changed = true;
        this.#log.push({ t: s, text: `alert ${name} firing for ${edge}` });
      } else if (!fire && this.#firing[i]) {
        await db
          .update(schema.signals)
          .set({ status: 'resolved', endsAt: at, updatedAt: at })
          .where(and(eq(schema.signals.fingerprint, fingerprint), eq(schema.signals.status, 'firing')));
        this.#firing[i] = false;
        changed = true;
        this.#log.push({ t: s, text: `alert ${name} resolved for ${edge}` });
      }
    }
    return changed;
  }

  /** New stage rows since the last tick: what the controller did or was refused. */
  async #readDecisions(s: number): Promise<void> {
    const rows = await this.db
      .select()
      .from(schema.runSteps)
      .where(gt(schema.runSteps.id, this.#lastStepId))
      .orderBy(schema.runSteps.id);
    for (const r of rows) {
      this.#lastStepId = r.id;
      const refusal = r.refusal as { rule?: string; reason?: string }[] | { rule?: string; reason?: string } | null;
      const first = Array.isArray(refusal) ? refusal[0] : refusal;
      this.#log.push({
        t: s,
        text: `run ${r.runId} step ${r.position}.${r.stage} ${r.kind}: ${r.state}${first?.rule ? ` (refused: ${first.rule}: ${first.reason ?? ''})` : ''}`,
      });
    }
  }

  log(): DriverLogEntry[] {
    return this.#log;
  }

  async close(): Promise<void> {
    if (this.#database && this.#beforeClose) await this.#beforeClose(this.#database.db);
    await this.#controller?.stop();
    await this.#database?.close();
  }
}

/** The CLI's drivers: the real controller for every playbook strategy, the package's own otherwise. */
export async function controllerDrivers(
  strategy: StrategyName,
  config: CatchmentConfig,
  model: ScenarioModel,
): Promise<Driver> {
  if (strategy === 'none' || strategy === 'scripted') return scriptedDrivers(strategy, config, model);
  return new ControllerDriver(config, model);
}
