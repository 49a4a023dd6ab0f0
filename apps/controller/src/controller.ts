import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { createLogger, type Logger, parseDuration } from '@catchment/core';
import { actionsExpiredBetween, type Db, publishSnapshot, schema, startRun } from '@catchment/db';
import { automationBlocked, edgeUsable } from '@catchment/safety';
import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import cron, { type ScheduledTask } from 'node-cron';
import { startHttp } from './http.ts';
import { type Leadership, leadershipFor } from './leader.ts';
import { type ControllerMetrics, createMetrics } from './metrics.ts';
import { type ControllerWorld, loadWorld } from './model.ts';
import { Notifier } from './notifier.ts';
import { type ControllerOptions, DEFAULTS } from './options.ts';
import { advanceRun, type ExecutorContext, type LoadedRun, renewExpiries } from './run-executor.ts';
import { initialMemory } from './run-machine.ts';
import { openRuns, type PlaybookRow, type RunRow, stepsOf } from './run-store.ts';
import { SloEvaluator } from './slo-evaluator.ts';
import { type StepDef, stagesOf } from './stages.ts';
import { TriggerReadings } from './triggers.ts';
import { subscribeWake } from './wake.ts';

export interface TickResult {
  leader: boolean;
  started: number[];
  changed: boolean;
}

/** What a run keeps of its playbook: the steps as they were when it started. */
interface RunOrigin {
  trigger: unknown;
  steps: StepDef[];
  playbook: string;
  reading: unknown;
}

/** The playbook as a run kept it, for a run whose playbook was deleted since it started. */
function fromOrigin(row: RunRow, origin: RunOrigin | null): PlaybookRow | undefined {
  if (!origin || typeof origin.playbook !== 'string' || !Array.isArray(origin.steps)) return undefined;
  return {
    id: 0,
    name: origin.playbook,
    mode: row.mode,
    trigger: origin.trigger,
    steps: origin.steps,
    cooldown: null,
    createdAt: row.startedAt,
    updatedAt: row.startedAt,
  };
}

/**
 * The controller: on every tick, the leader reads the world and the signals, starts
 * runs for playbooks whose trigger went over its threshold, and advances every open
 * run by its state machine; then it publishes a new snapshot when actions changed.
 */
export class Controller {
  readonly name: string;
  readonly logger: Logger;
  readonly metrics: ControllerMetrics;
  readonly notifier: Notifier;
  readonly leadership: Leadership;
  readonly slo: SloEvaluator;
  readonly #o: ControllerOptions;
  readonly #cfg: typeof DEFAULTS;
  readonly #now: () => Date;
  #tasks: ScheduledTask[] = [];
  #poll: NodeJS.Timeout | undefined;
  #http: Server | undefined;
  #ticking: Promise<TickResult> | undefined;
  #wasLeader = false;
  #wakePending = false;
  #lastTickAt: number | undefined;
  #unsubscribe: (() => Promise<void>) | undefined;
  #stopped = false;
  httpPort: number | undefined;

  constructor(opts: ControllerOptions) {
    this.#o = opts;
    this.#cfg = {
      ...DEFAULTS,
      ...Object.fromEntries(Object.entries(opts).filter(([k, v]) => k in DEFAULTS && v !== undefined)),
    };
    this.name = opts.name ?? `controller:${hostname()}:${process.pid}`;
    this.logger = opts.logger ?? createLogger('controller');
    this.#now = opts.now ?? (() => new Date());
    this.metrics = createMetrics();
    this.notifier = new Notifier({ url: opts.webhookUrl, logger: this.logger });
    this.leadership = leadershipFor(opts.database);
    this.slo = new SloEvaluator({
      db: this.leadership.db,
      logger: this.logger,
      metrics: this.metrics,
      prometheusUrl: opts.prometheusUrl,
      burnRate: opts.burnRate,
      loadStaleMs: this.#cfg.loadStaleMs,
      now: this.#now,
    });
  }

  get db(): Db {
    return this.leadership.db;
  }

  isLeader(): boolean {
    return this.leadership.isLeader();
  }

  async start(): Promise<void> {
    if (this.#o.http !== false && this.#o.http) {
      const { server, port } = await startHttp(
        {
          registry: this.metrics.registry,
          ready: async () => {
            try {
              await this.#o.database.db.execute(sql`select 1`);
              return { ok: true, details: { leader: this.isLeader(), name: this.name } };
            } catch (err) {
              return { ok: false, details: { error: (err as Error).message } };
            }
          },
        },
        this.#o.http.host,
        this.#o.http.port,
      );
      this.#http = server;
      this.httpPort = port;
    }
    await this.leadership.check();
    this.metrics.leader.set(this.isLeader() ? 1 : 0);
    if (this.#o.schedule === false) return;
    // New signals and approvals wake the leader at once (LISTEN/NOTIFY), the schedule is the fallback.
    this.#unsubscribe = await subscribeWake(this.#o.database, () => this.wake()).catch((err: Error) => {
      this.logger.warn({ err: err.message }, 'cannot listen for wake-ups; relying on the schedule');
      return undefined;
    });
    const opts = { noOverlap: true };
    this.#tasks.push(cron.schedule(this.#cfg.tickSchedule, () => this.#safeTick(), opts));
    this.#tasks.push(cron.schedule(this.#cfg.sloSchedule, () => this.#safeSlo(), opts));
    // A standby checks for the lock faster than the tick runs, so takeover takes about pollMs.
    this.#poll = setInterval(() => {
      if (!this.isLeader() && !this.#stopped) {
        this.leadership
          .check()
          .then((leader) => {
            if (leader) void this.#safeTick();
          })
          .catch(() => {});
      }
    }, this.#cfg.leaderPollMs);
    this.logger.info({ replica: this.name, leader: this.isLeader() }, 'controller started');
  }

  async #safeTick(): Promise<void> {
    try {
      await this.tick();
    } catch (err) {
      this.metrics.ticks.inc({ result: 'error' });
      this.logger.error({ err: (err as Error).message }, 'controller tick failed');
    }
  }

  async #safeSlo(): Promise<void> {
    if (!this.isLeader()) return;
    try {
      await this.slo.evaluate();
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'SLO evaluation failed');
    }
  }

  /** One decision round; concurrent calls share the round in progress. */
  tick(): Promise<TickResult> {
    if (this.#ticking) return this.#ticking;
    this.#ticking = this.#tick().finally(() => {
      this.#ticking = undefined;
      if (this.#wakePending && !this.#stopped) {
        this.#wakePending = false;
        void this.#safeTick();
      }
    });
    return this.#ticking;
  }

  /** Stops reacting to wake-ups (the schedule alone drives ticks): for comparisons. */
  async stopWake(): Promise<void> {
    await this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Something changed (a signal, an approval): tick now, or right after the tick in progress. */
  wake(): void {
    if (this.#stopped || !this.isLeader()) return;
    if (this.#ticking) this.#wakePending = true;
    else void this.#safeTick();
  }

  async #tick(): Promise<TickResult> {
    const result: TickResult = { leader: false, started: [], changed: false };
    if (this.#stopped) return result;
    const leader = await this.leadership.check();
    this.metrics.leader.set(leader ? 1 : 0);
    result.leader = leader;
    if (!leader) {
      this.#wasLeader = false;
      return result;
    }
    const endTimer = this.metrics.tickSeconds.startTimer();
    const db = this.db;
    const now = this.#now();
    const modelOpts = { loadStaleMs: this.#cfg.loadStaleMs };
    let world = await loadWorld(db, now, modelOpts);
    const playbooks = await db.select().from(schema.playbooks);
    const readings = await TriggerReadings.load(db, world.edgeNames, now, this.#cfg.sloStaleMs, {
      afterEndMs: this.#cfg.alertLapseMs,
      maxSilenceMs: this.#cfg.alertMaxSilenceMs,
    });

    let open = await openRuns(db);
    for (const pb of playbooks) {
      for (const edge of readings.overEdges(pb)) {
        const id = await this.#maybeStart(db, world, pb, edge, open, readings.reading(pb, edge), now);
        if (id !== undefined) {
          result.started.push(id);
          open = await openRuns(db);
        }
      }
    }

    const ctx: ExecutorContext = {
      db,
      now,
      actor: this.name,
      world,
      reloadWorld: async () => {
        world = await loadWorld(db, now, modelOpts);
        return world;
      },
      notifier: this.notifier,
      metrics: this.metrics,
      planner: { minTargets: this.#cfg.minTargets, dnsSteerableShare: this.#cfg.dnsSteerableShare },
      actionTtlMs: this.#cfg.actionTtlMs,
      retry: {
        attempts: this.#cfg.stageRetryAttempts,
        baseMs: this.#cfg.stageRetryBaseMs,
        maxMs: this.#cfg.stageRetryMaxMs,
      },
      ...(this.#o.faults ? { faults: this.#o.faults } : {}),
    };
    for (const row of open) {
      // One run's trouble (a conflict with another replica, a bad playbook) does not stop the others.
      try {
        const loaded = await this.#loadRun(db, row, playbooks, world);
        if (!loaded) continue;
        const reading = readings.reading(loaded.playbook, loaded.edge);
        result.changed = (await advanceRun(ctx, loaded, reading)) || result.changed;
      } catch (err) {
        this.metrics.ticks.inc({ result: 'run-error' });
        this.logger.error({ run: row.id, err: (err as Error).message }, 'advancing a run failed');
      }
    }
    const stillOpen = await openRuns(db);
    await renewExpiries(
      db,
      stillOpen.map((r) => r.id),
      now,
      this.#cfg.actionTtlMs,
    );
    this.metrics.runsOpen.reset();
    for (const r of stillOpen) this.metrics.runsOpen.inc({ state: r.state });

    // An action that expired since the last tick (an operator's drain with an expiry...)
    // changes the compiled state without any write: publish then too.
    const expired = await actionsExpiredBetween(db, new Date(this.#lastTickAt ?? now.getTime()), now);
    this.#lastTickAt = now.getTime();
    // A new leader publishes once: the previous one may have died between commit and publish.
    if (result.changed || expired || !this.#wasLeader) await this.#publish(db);
    this.#wasLeader = true;
    this.metrics.ticks.inc({ result: 'ok' });
    endTimer();
    return result;
  }

  async #publish(db: Db): Promise<void> {
    const publish =
      this.#o.publish ??
      ((d: Db, actor: string) => publishSnapshot(d, { actor, now: this.#now(), loadStaleMs: this.#cfg.loadStaleMs }));
    try {
      await publish(db, this.name);
      this.metrics.publishes.inc({ result: 'ok' });
    } catch (err) {
      this.metrics.publishes.inc({ result: 'error' });
      this.logger.error({ err: (err as Error).message }, 'snapshot publication failed');
    }
  }

  async #maybeStart(
    db: Db,
    world: ControllerWorld,
    pb: PlaybookRow,
    edge: string,
    open: RunRow[],
    reading: { level: string; value: number | null },
    now: Date,
  ): Promise<number | undefined> {
    const edgeId = world.edgeIds.get(edge);
    if (edgeId === undefined) return undefined;
    // One open run per edge: two playbooks steering the same edge would fight.
    if (open.some((r) => r.edgeId === edgeId)) return undefined;
    // An edge that is down, draining or in maintenance gets no DNS answers to shift.
    const self = world.edges.find((e) => e.name === edge);
    if (!self || !edgeUsable(self)) return undefined;
    // Humans win: no new run on a frozen or overridden edge.
    const blocked = automationBlocked(world, edge);
    if (blocked.length > 0) return undefined;
    if (pb.cooldown) {
      const last = (
        await db
          .select({ endedAt: schema.playbookRuns.endedAt })
          .from(schema.playbookRuns)
          .where(
            and(
              eq(schema.playbookRuns.playbookId, pb.id),
              eq(schema.playbookRuns.edgeId, edgeId),
              isNotNull(schema.playbookRuns.endedAt),
            ),
          )
          .orderBy(desc(schema.playbookRuns.endedAt))
          .limit(1)
      )[0];
      if (last?.endedAt && last.endedAt.getTime() + parseDuration(pb.cooldown) > now.getTime()) return undefined;
    }
    const origin: RunOrigin = { trigger: pb.trigger, steps: pb.steps as StepDef[], playbook: pb.name, reading };
    // The run and its audit entry in one transaction (packages/db runs.ts, the runs' owner).
    const id = await startRun(
      db,
      { playbookId: pb.id, edgeId, mode: pb.mode, trigger: origin, machine: initialMemory(now, reading.value) },
      {
        at: now,
        actor: this.name,
        reason: `trigger of playbook ${pb.name} over its threshold on ${edge}`,
        after: { playbook: pb.name, edge, mode: pb.mode, reading },
      },
    );
    if (id === undefined) return undefined;
    this.metrics.runsStarted.inc({ playbook: pb.name });
    this.notifier.notify({
      event: 'started',
      text: `trigger over its threshold (value ${reading.value ?? 'n/a'}); ${pb.mode === 'dry-run' ? 'dry run: nothing will change' : 'shedding load step by step'}`,
      run: { id, playbook: pb.name, edge, state: 'triggered', mode: pb.mode },
    });
    this.metrics.notifications.inc({ event: 'started' });
    return id;
  }

  async #loadRun(
    db: Db,
    row: RunRow,
    playbooks: PlaybookRow[],
    world: ControllerWorld,
  ): Promise<LoadedRun | undefined> {
    const origin = row.trigger as RunOrigin | null;
    // A run whose playbook was deleted continues from the definition it started with
    // (trigger, steps, name), so it still recovers and undoes its stages.
    const playbook =
      playbooks.find((p) => p.id === row.playbookId) ?? (row.playbookId === null ? fromOrigin(row, origin) : undefined);
    const edge = row.edgeId === null ? undefined : world.edgeNames.get(row.edgeId);
    if (!playbook || !edge) return undefined;
    const steps = Array.isArray(origin?.steps) ? origin.steps : (playbook.steps as StepDef[]);
    const stages = stagesOf(steps, { verifyMs: this.#cfg.defaultVerifyMs, dwellMs: this.#cfg.defaultDwellMs });
    return { row, playbook, edge, stages, steps: await stepsOf(db, row.id) };
  }

  /** Graceful stop: the lock is released so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#unsubscribe?.();
    for (const t of this.#tasks) await t.destroy();
    this.#tasks = [];
    if (this.#poll) clearInterval(this.#poll);
    await this.#ticking?.catch(() => {});
    await this.notifier.flush();
    await this.leadership.release();
    this.metrics.leader.set(0);
    if (this.#http) await new Promise<void>((r) => this.#http?.close(() => r()));
  }

  /** As if the process died: no cleanup, the connection just goes (tests of takeover). */
  async crash(): Promise<void> {
    this.#stopped = true;
    await this.#unsubscribe?.();
    for (const t of this.#tasks) await t.destroy();
    this.#tasks = [];
    if (this.#poll) clearInterval(this.#poll);
    await this.leadership.crash();
    if (this.#http) await new Promise<void>((r) => this.#http?.close(() => r()));
  }
}
