import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type Database, openDatabase, runById, schema, updateRun } from '@catchment/db';
import { freshDatabase, sharedCluster } from '@catchment/testkit';
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
import { asc } from 'drizzle-orm';
import { Controller } from '../src/index.ts';
import { memoryOf } from '../src/run-store.ts';

/** Ticks until this controller leads (a standby takes over once the dead leader's session is gone). */
async function tickUntilLeader(c: Controller): Promise<number> {
  for (let i = 1; i <= 100; i++) {
    if ((await c.tick()).leader) return i;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the standby never took over');
}

// Started at the top level, so that the cluster lives as long as the file.
await sharedCluster();

describe('two controller replicas on PostgreSQL', () => {
  const opened: Database[] = [];
  after(async () => {
    for (const d of opened) await d.close().catch(() => {});
  });

  async function setup() {
    const base = await freshDatabase('postgres');
    opened.push(base);
    const ids = await seedWorld(base.db);
    await addPlaybook(base.db, { name: 'shed', trigger: { alert: { alertname: 'EdgeOverloaded' } } });
    const clock = new FakeClock();
    let failNext = false;
    const make = async (name: string) => {
      const database = await openDatabase({ url: base.url, poolSize: 2 });
      opened.push(database);
      const c = new Controller({
        database,
        name,
        now: clock.now,
        schedule: false,
        http: false,
        faults: {
          afterActionsWritten: () => {
            if (failNext && name === 'a') {
              failNext = false;
              throw new Error('controller a dies in the middle of a transition');
            }
          },
        },
      });
      await c.start();
      return c;
    };
    const a = await make('a');
    const b = await make('b');
    return { db: base.db, ids, clock, a, b, failNextTransition: () => (failNext = true) };
  }

  it('exactly one leads; when it dies mid-transition the standby continues the run without repeating or skipping an action', async () => {
    const { db, ids, clock, a, b, failNextTransition } = await setup();
    try {
      assert.equal((await a.tick()).leader, true);
      assert.equal((await b.tick()).leader, false, 'the lock is held: b stands by');
      await setAlert(db, ids, 'lhr', 'firing', clock.now());
      await reportLoads(db, ids, NORMAL_LOADS, clock.now());
      await a.tick();
      assert.deepEqual(
        (await activeActions(db)).map((x) => (x.params as { percent: number }).percent),
        [10],
      );

      // Stage 2 (25 %): a writes its action, then dies before the transaction commits.
      clock.advance(2 * MIN);
      await reportLoads(db, ids, NORMAL_LOADS, clock.now());
      failNextTransition();
      await a.tick(); // the run's transition fails and rolls back; the tick logs it and goes on
      assert.match(
        await a.metrics.registry.getSingleMetricAsString('catchment_controller_ticks_total'),
        /result="run-error"} 1/,
      );
      assert.deepEqual(
        (await activeActions(db)).map((x) => (x.params as { percent: number }).percent),
        [10],
        'nothing half-done',
      );
      await a.crash();

      await tickUntilLeader(b);
      assert.deepEqual(
        (await activeActions(db)).map((x) => (x.params as { percent: number }).percent),
        [25],
      );

      // b keeps going; a does not come back as a second leader.
      clock.advance(2 * MIN);
      await reportLoads(db, ids, NORMAL_LOADS, clock.now());
      await b.tick();
      const all = await db.select().from(schema.actions).orderBy(asc(schema.actions.id));
      assert.deepEqual(
        all.map((x) => `${x.kind} ${(x.params as { percent?: number }).percent ?? ''} ${x.actor}`),
        ['dns-shift 10 a', 'dns-shift 25 b', 'dns-shift 50 b'],
      );
      assert.equal(new Set(all.map((x) => x.idempotencyKey)).size, all.length);
    } finally {
      await a.crash().catch(() => {});
      await b.stop();
    }
  });

  it('a leader killed right after a transition is not repeated by its successor', async () => {
    const { db, ids, clock, a, b } = await setup();
    try {
      await a.tick();
      await setAlert(db, ids, 'lhr', 'firing', clock.now());
      await reportLoads(db, ids, NORMAL_LOADS, clock.now());
      await a.tick();
      clock.advance(2 * MIN);
      await reportLoads(db, ids, NORMAL_LOADS, clock.now());
      await a.tick(); // 25 % committed
      await a.crash();
      await tickUntilLeader(b);
      await b.tick();
      const all = await db.select().from(schema.actions).orderBy(asc(schema.actions.id));
      assert.deepEqual(
        all.map((x) => (x.params as { percent: number }).percent),
        [10, 25],
        'b waits out the verify window of the stage a applied',
      );
      clock.advance(2 * MIN);
      await reportLoads(db, ids, NORMAL_LOADS, clock.now());
      await b.tick();
      assert.deepEqual(
        (await activeActions(db)).map((x) => (x.params as { percent: number }).percent),
        [50],
      );
    } finally {
      await b.stop();
    }
  });

  it('a graceful stop hands the lead over at once; a stale decision cannot be applied twice', async () => {
    const { db, ids, clock, a, b } = await setup();
    try {
      await a.tick();
      await a.stop();
      assert.equal(await tickUntilLeader(b), 1, 'the lock was released on stop');
      await setAlert(db, ids, 'lhr', 'firing', clock.now());
      await reportLoads(db, ids, NORMAL_LOADS, clock.now());
      await b.tick();
      const run = (await db.select().from(schema.playbookRuns))[0];
      assert.ok(run);
      const row = await runById(db, run.id);
      assert.ok(row);
      const memory = memoryOf(row);
      await db.transaction((tx) =>
        updateRun(tx, row, { memory: { ...memory, seq: memory.seq + 1 } }, clock.now(), 'test'),
      );
      await assert.rejects(
        db.transaction((tx) => updateRun(tx, row, { memory: { ...memory, seq: memory.seq + 1 } }, clock.now(), 'test')),
        /changed by another controller/,
      );
    } finally {
      await b.stop();
    }
  });
});
