import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type Database, latestSnapshot, schema } from '@catchment/db';
import { freshDatabase } from '@catchment/testkit';
import {
  activeActions,
  addPlaybook,
  FakeClock,
  MIN,
  NORMAL_LOADS,
  reportLoads,
  seedWorld,
  setAlert,
} from '@catchment/testkit/world';
import { asc, eq, inArray } from 'drizzle-orm';
import { Controller } from '../src/index.ts';
import { loadWorld } from '../src/model.ts';

/** The safety rules as the controller meets them: every refusal recorded with its rule. */
describe('safety rules inside the controller (PGlite)', () => {
  let database: Database;
  let ids: Map<string, number>;
  let clock: FakeClock;
  let controller: Controller;
  let loads: typeof NORMAL_LOADS;

  beforeEach(async () => {
    database = await freshDatabase('pglite');
    ids = await seedWorld(database.db);
    clock = new FakeClock();
    loads = { ...NORMAL_LOADS };
    controller = new Controller({ database, now: clock.now, schedule: false, http: false });
    await controller.start();
  });
  afterEach(async () => {
    await controller.stop();
    await database.close();
  });

  const tickAfter = async (ms: number) => {
    clock.advance(ms);
    await reportLoads(database.db, ids, loads, clock.now());
    return controller.tick();
  };
  /** The retry bookkeeping of the run's step at `position` (its run_steps params). */
  const stepParams = async (db: Database['db'], position: number) => {
    const [row] = await db.select().from(schema.runSteps).where(eq(schema.runSteps.position, position));
    const { attempts, retryAt } = (row?.params ?? {}) as { attempts?: number; retryAt?: string | null };
    return { attempts, retryAt };
  };
  const operator = (kind: string, edge: string | null, params: Record<string, unknown> = {}) =>
    database.db
      .insert(schema.actions)
      .values({
        kind,
        edgeId: edge ? (ids.get(edge) ?? null) : null,
        params,
        reason: 'operator at work',
        actor: 'alice',
        source: 'operator',
        createdAt: clock.now(),
      })
      .returning({ id: schema.actions.id });

  it('humans win: a freeze stops new runs and holds open ones; lifting it lets the run continue', async () => {
    const db = database.db;
    await addPlaybook(db, { name: 'shed', trigger: { alert: { alertname: 'EdgeOverloaded' } } });
    const [freeze] = await operator('freeze', null);
    await setAlert(db, ids, 'lhr', 'firing', clock.now());
    assert.deepEqual((await tickAfter(0)).started, [], 'no run while frozen');
    await db.delete(schema.actions).where(eq(schema.actions.id, freeze?.id ?? 0));
    assert.equal((await tickAfter(0)).started.length, 1);
    await operator('freeze', 'lhr');
    for (let i = 0; i < 5; i++) await tickAfter(2 * MIN);
    assert.deepEqual(
      (await activeActions(db))
        .filter((a) => a.source === 'automation')
        .map((a) => (a.params as { percent: number }).percent),
      [10],
      'held at the first stage while lhr is frozen',
    );
    await db.delete(schema.actions).where(eq(schema.actions.kind, 'freeze'));
    await tickAfter(0);
    assert.deepEqual(
      (await activeActions(db)).map((a) => (a.params as { percent: number }).percent),
      [25],
    );
  });

  it('an operator action of the same kind beats the playbook step, which is refused with its rule', async () => {
    const db = database.db;
    await addPlaybook(db, { name: 'shed', trigger: { alert: { alertname: 'EdgeOverloaded' } } });
    await operator('dns-shift', 'lhr', { percent: 5 });
    await setAlert(db, ids, 'lhr', 'firing', clock.now());
    await tickAfter(0);
    const steps = await db.select().from(schema.runSteps).orderBy(asc(schema.runSteps.id));
    assert.equal(steps[0]?.kind, 'dns-shift');
    assert.equal(steps[0]?.state, 'refused');
    assert.equal(((steps[0]?.refusal ?? []) as { rule: string }[])[0]?.rule, 'humans-win');
    assert.deepEqual(await activeActions(db).then((a) => a.filter((x) => x.source === 'automation')), []);
    // Asked again after 15 s and 30 s (backoff); refused three times, the run escalates past it.
    await tickAfter(14_000);
    assert.equal((await stepParams(db, 0)).attempts, 1, 'not asked again before its backoff');
    await tickAfter(1_000);
    assert.equal((await stepParams(db, 0)).attempts, 2);
    await tickAfter(30_000);
    assert.deepEqual(await stepParams(db, 0), { attempts: 3, retryAt: null });
    // The run moves on to the next step instead of the rest of the schedule.
    assert.deepEqual(
      (await activeActions(db)).filter((a) => a.source === 'automation').map((a) => a.kind),
      ['withdraw-unicast', 'withdraw-unicast'],
    );
  });

  it('capacity: with no headroom anywhere every step is refused and nothing changes', async () => {
    const db = database.db;
    await addPlaybook(db, { name: 'shed', trigger: { alert: { alertname: 'EdgeOverloaded' } } });
    loads = { fra: 84_900, iad: 101_900, sin: 67_900, lhr: 29_000, gru: 16_990, syd: 16_990 };
    await setAlert(db, ids, 'lhr', 'firing', clock.now());
    // Each stage is asked three times (15 s, then 30 s apart) before the run escalates past it.
    for (let i = 0; i < 14; i++) await tickAfter(MIN);
    assert.deepEqual(
      (await activeActions(db)).map((a) => [a.kind, a.params]),
      [],
    );
    const steps = await db.select().from(schema.runSteps).orderBy(asc(schema.runSteps.id));
    assert.deepEqual(
      steps.map((s) => `${s.kind}:${s.state}`),
      ['dns-shift:refused', 'withdraw-unicast:refused', 'communities:refused', 'dsr-shed:refused', 'notify:sent'],
    );
    for (const s of steps.filter((x) => x.state === 'refused')) {
      const refusals = s.refusal as { rule: string; reason: string; details: object }[];
      assert.ok(
        refusals.length > 0 && refusals.every((r) => r.rule && r.reason && r.details),
        JSON.stringify(refusals),
      );
    }
    assert.ok(((steps[0]?.refusal ?? []) as { rule: string }[]).some((r) => r.rule === 'capacity'));
    const metrics = await controller.metrics.registry.getSingleMetricAsString('catchment_controller_refusals_total');
    assert.match(metrics, /rule="capacity"/);
  });

  it('a withdrawn prefix whose covering supernet loses every other announcer is re-announced at once', async () => {
    const db = database.db;
    await addPlaybook(db, {
      name: 'shed',
      trigger: { alert: { alertname: 'EdgeOverloaded' } },
      steps: [{ kind: 'withdraw-unicast', verify: { within: '2m' }, dwell: '30m' }],
    });
    await setAlert(db, ids, 'lhr', 'firing', clock.now());
    await tickAfter(0);
    assert.equal((await activeActions(db)).length, 2, 'v4 and v6 withdrawn');
    await operator('freeze', null); // even a freeze does not keep a prefix without a route
    await db
      .update(schema.edges)
      .set({ state: 'down' })
      .where(inArray(schema.edges.id, [ids.get('fra') ?? 0, ids.get('iad') ?? 0, ids.get('sin') ?? 0]));
    await tickAfter(MIN);
    assert.deepEqual(
      (await activeActions(db)).map((a) => a.kind),
      ['freeze'],
      'the withdrawals are reverted although the alert still fires and the dwell is not over',
    );
    const run = (await db.select().from(schema.playbookRuns))[0];
    assert.equal(run?.state, 'recovering');
  });

  it('a stale or missing SLO evaluation holds the run still', async () => {
    const db = database.db;
    await addPlaybook(db, { name: 'slo', trigger: { slo: 'lhr-utilisation' } });
    loads = { ...NORMAL_LOADS, lhr: 29_000 };
    await reportLoads(db, ids, loads, clock.now());
    await controller.slo.evaluate(); // no Prometheus: utilisation from the edges' reports
    assert.equal((await tickAfter(0)).started.length, 1);
    assert.equal((await activeActions(db)).length, 1);
    // No evaluation for 2.5 minutes (the evaluator stopped): the signal is unknown, nothing moves.
    await tickAfter(2.5 * MIN);
    await tickAfter(2 * MIN);
    assert.equal((await activeActions(db)).length, 1);
    assert.deepEqual(
      (await activeActions(db)).map((a) => (a.params as { percent: number }).percent),
      [10],
    );
    await controller.slo.evaluate();
    await tickAfter(0);
    assert.deepEqual(
      (await activeActions(db)).map((a) => (a.params as { percent: number }).percent),
      [25],
    );
  });

  it('an edge that stopped reporting its load has no utilisation, not its last value', async () => {
    const db = database.db;
    await reportLoads(db, ids, { ...NORMAL_LOADS, lhr: 29_000 }, clock.now());
    const fresh = await controller.slo.evaluate();
    assert.ok((fresh.find((r) => r.slo === 'lhr-utilisation')?.value ?? 0) > 0.9);
    clock.advance(3 * MIN); // past the controller's loadStaleMs (2 min), no new report
    const stale = await controller.slo.evaluate();
    assert.equal(stale.find((r) => r.slo === 'lhr-utilisation')?.value, null);
  });

  it('every automated action expires unless the leader renews it while its run is open; expiries are published', async () => {
    const db = database.db;
    await controller.stop();
    controller = new Controller({ database, now: clock.now, schedule: false, http: false, actionTtlMs: 10 * MIN });
    await controller.start();
    await addPlaybook(db, {
      name: 'shed',
      trigger: { alert: { alertname: 'EdgeOverloaded' } },
      steps: [{ kind: 'dns-shift', schedule: [10], verify: { within: '2m' }, dwell: '5m' }],
    });
    await setAlert(db, ids, 'lhr', 'firing', clock.now());
    await tickAfter(0);
    for (let i = 0; i < 15; i++) await tickAfter(2 * MIN);
    const [shift] = await activeActions(db);
    assert.ok(shift?.expiresAt && shift.expiresAt > clock.now(), 'renewed for 30 minutes');
    // The controllers are gone: the action runs out at its expiry.
    await controller.stop();
    clock.advance(11 * MIN);
    const world = await loadWorld(db, clock.now(), { loadStaleMs: 60 * MIN });
    assert.equal(world.actions.length, 0);
    // An operator's drain with an expiry: published when it starts and again when it ends.
    controller = new Controller({ database, now: clock.now, schedule: false, http: false });
    await controller.start();
    await db.insert(schema.actions).values({
      kind: 'drain',
      edgeId: ids.get('gru') ?? null,
      params: {},
      reason: 'maintenance window',
      actor: 'alice',
      source: 'operator',
      createdAt: clock.now(),
      expiresAt: new Date(clock.now().getTime() + 3 * MIN),
    });
    await tickAfter(0);
    assert.equal((await latestSnapshot(db))?.body.edges.find((e) => e.name === 'gru')?.override, 'drain');
    await tickAfter(4 * MIN);
    assert.equal((await latestSnapshot(db))?.body.edges.find((e) => e.name === 'gru')?.override, 'none');
  });
});
