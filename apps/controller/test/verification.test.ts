import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { PlaybookConfig } from '@catchment/core';
import { type Database, schema } from '@catchment/db';
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
import { asc, eq } from 'drizzle-orm';
import { Controller } from '../src/index.ts';

/**
 * Issue 12, items 3 and 4: a stage is verified on what the agents observe (its prefix gone, its
 * communities on the routes, its DSR fraction in the maps, the edge's load down), not on the alert
 * alone; a failed verification escalates or rolls back as the step says, and is recorded; missing
 * data holds a run at its step, never skips ahead. The agents are testkit's report rows (the API's
 * report intake writes the same rows): an obeying agent exports what the state announces, one with
 * `obey: false` ignores every action (its exporter does not apply them).
 */
describe('stages are verified on what is observed', () => {
  let database: Database;
  let ids: Map<string, number>;
  let clock: FakeClock;
  let controller: Controller;
  let loads: Record<string, number>;
  let obey: boolean;

  beforeEach(async () => {
    database = await freshDatabase('pglite');
    ids = await seedWorld(database.db);
    clock = new FakeClock();
    loads = { ...NORMAL_LOADS };
    obey = true;
    controller = new Controller({ database, now: clock.now, schedule: false, http: false });
    await controller.start();
  });
  afterEach(async () => {
    await controller.stop();
    await database.close();
  });

  /** Agents report (as they do every 10 s), then the controller ticks. */
  const tickAfter = async (ms: number) => {
    clock.advance(ms);
    await reportLoads(database.db, ids, loads, clock.now(), { obey });
    return controller.tick();
  };
  const steps = async () =>
    (await database.db.select().from(schema.runSteps).orderBy(asc(schema.runSteps.id))).map((s) => ({
      kind: s.kind,
      state: s.state,
      verification: (s.observed as { verification?: { state: string; reason: string } } | null)?.verification,
      refusal: s.refusal as { rule: string; missingData?: true }[] | null,
      params: s.params as { attempts?: number },
    }));
  const automation = async () => (await activeActions(database.db)).filter((a) => a.source === 'automation');
  const start = async (playbookSteps: PlaybookConfig['steps']) => {
    await addPlaybook(database.db, {
      name: 'shed',
      trigger: { alert: { alertname: 'EdgeOverloaded' } },
      steps: playbookSteps,
    });
    await setAlert(database.db, ids, 'lhr', 'firing', clock.now());
    await tickAfter(0);
  };

  it('a withdrawal the speaker does not apply fails verification and is rolled back; the run escalates', async () => {
    obey = false;
    await start([
      { kind: 'withdraw-unicast', verify: { within: '1m', onFail: 'rollback' }, dwell: '5m' },
      { kind: 'dsr-shed', fraction: 0.25, verify: { within: '1m' }, dwell: '5m' },
    ]);
    assert.deepEqual(
      (await automation()).map((a) => a.kind),
      ['withdraw-unicast', 'withdraw-unicast'],
    );
    await tickAfter(30_000);
    assert.equal((await steps())[0]?.verification, undefined, 'not judged inside its verify window');
    await tickAfter(30_000);
    const [withdraw, dsr] = await steps();
    assert.equal(withdraw?.state, 'rolled-back');
    assert.equal(withdraw?.verification?.state, 'failed');
    assert.match(withdraw?.verification?.reason ?? '', /lhr still exports 198\.18\.4\.0\/24, 2001:db8:104::\/48/);
    // Rolled back: the withdrawal is gone, the next step is in place.
    assert.deepEqual(
      (await automation()).map((a) => a.kind),
      ['dsr-shed'],
    );
    assert.equal(dsr?.state, 'applied');
    const metrics = await controller.metrics.registry.getSingleMetricAsString(
      'catchment_controller_verifications_total',
    );
    assert.match(metrics, /kind="withdraw-unicast",result="failed"\} 1/);
  });

  it('a withdrawal the agents report gone passes verification and stays while the run escalates', async () => {
    await start([
      { kind: 'withdraw-unicast', verify: { within: '1m', onFail: 'rollback' }, dwell: '5m' },
      { kind: 'dsr-shed', fraction: 0.25, verify: { within: '1m' }, dwell: '5m' },
    ]);
    await tickAfter(MIN);
    const [withdraw, dsr] = await steps();
    assert.equal(withdraw?.state, 'applied');
    assert.equal(withdraw?.verification?.state, 'met', JSON.stringify(withdraw?.verification));
    assert.match(withdraw?.verification?.reason ?? '', /lhr exports 198\.18\.4\.0\/24, 2001:db8:104::\/48 no more/);
    assert.equal(dsr?.state, 'applied');
    assert.deepEqual((await automation()).map((a) => a.kind).sort(), [
      'dsr-shed',
      'withdraw-unicast',
      'withdraw-unicast',
    ]);
  });

  it('a DNS shift whose load falls passes; one whose load stays fails and escalates (the default)', async () => {
    await start([
      { kind: 'dns-shift', schedule: [20, 40], verify: { within: '1m' }, dwell: '5m' },
      { kind: 'notify', message: 'still overloaded' },
    ]);
    // 20 %: the edge's load falls by most of what the stage predicted.
    loads = { ...loads, lhr: 23_500 };
    await tickAfter(MIN);
    // 40 %: the load does not move.
    await tickAfter(MIN);
    const [first, second, notify] = await steps();
    assert.equal(first?.verification?.state, 'met', JSON.stringify(first?.verification));
    assert.match(first?.verification?.reason ?? '', /lhr load went from 28000 to 23500 rps: at least 50 %/);
    assert.equal(second?.verification?.state, 'failed', JSON.stringify(second?.verification));
    assert.match(second?.verification?.reason ?? '', /less than 50 % of the predicted/);
    assert.equal(second?.state, 'applied', 'escalate leaves it in place');
    assert.equal(notify?.state, 'sent');
  });

  it("a DSR fraction the agent's maps do not hold fails verification and is rolled back", async () => {
    obey = false;
    await start([
      { kind: 'dsr-shed', fraction: 0.25, verify: { within: '1m', onFail: 'rollback' }, dwell: '5m' },
      { kind: 'notify', message: 'next' },
    ]);
    await tickAfter(MIN);
    const [dsr] = await steps();
    assert.equal(dsr?.state, 'rolled-back');
    assert.match(dsr?.verification?.reason ?? '', /lhr: no XDP DSR state reported/);
    assert.deepEqual(await automation(), []);
  });

  it('communities the agents report on every route pass; a DSR stage whose load stays fails', async () => {
    await start([
      { kind: 'communities', transit: 'transit-a', intents: ['prepend-2x'], verify: { within: '1m' }, dwell: '5m' },
      { kind: 'dsr-shed', fraction: 0.25, verify: { within: '1m', onFail: 'rollback' }, dwell: '5m' },
      { kind: 'notify', message: 'next' },
    ]);
    await tickAfter(MIN);
    await tickAfter(MIN);
    const [communities, shed] = await steps();
    assert.equal(communities?.verification?.state, 'met', JSON.stringify(communities?.verification));
    assert.match(communities?.verification?.reason ?? '', /lhr exports its routes with 64500:/);
    // The obeying agent's maps hold 0.25; lhr's load did not fall, so the load check fails.
    assert.match(shed?.verification?.reason ?? '', /lhr load went from 28000 to 28000 rps/);
  });

  it('load reports that stop mid-run hold it at its step; when they resume it goes on from there', async () => {
    await start([
      { kind: 'dns-shift', schedule: [10, 25, 50], verify: { within: '1m' }, dwell: '5m' },
      { kind: 'withdraw-unicast', verify: { within: '1m' }, dwell: '5m' },
    ]);
    assert.deepEqual(
      (await automation()).map((a) => (a.params as { percent?: number }).percent),
      [10],
    );
    // The agents go silent for five minutes (load bound 2 min, report bound 30 s).
    for (let i = 0; i < 10; i++) {
      clock.advance(30_000);
      await controller.tick();
    }
    assert.deepEqual(
      (await automation()).map((a) => (a.params as { percent?: number }).percent),
      [10],
      'held at 10 %: nothing skipped, nothing collapsed',
    );
    assert.deepEqual(
      (await steps()).map((s) => `${s.kind}:${s.state}`),
      ['dns-shift:applied'],
    );
    const [run] = await database.db.select().from(schema.playbookRuns);
    const hold = (run?.machine as { hold?: { reason: string } } | undefined)?.hold;
    assert.match(hold?.reason ?? '', /^cannot verify the current stage: lhr has not reported its load/);
    // Reports resume: the stage is judged, and the run goes on with the next entry of the schedule.
    await tickAfter(10_000);
    assert.deepEqual(
      (await automation()).map((a) => (a.params as { percent?: number }).percent),
      [25],
    );
  });

  it('a stage refused for missing data is asked again, without limit, until the data is back', async () => {
    await start([
      { kind: 'dns-shift', schedule: [10], verify: { within: '1m' }, dwell: '5m' },
      { kind: 'withdraw-unicast', verify: { within: '1m' }, dwell: '5m' },
    ]);
    // The 10 % stage is in place; then every target's load goes stale (only lhr reports).
    const only = async (ms: number, edges: string[]) => {
      clock.advance(ms);
      await reportLoads(database.db, ids, Object.fromEntries(edges.map((e) => [e, loads[e] ?? 0])), clock.now());
      await controller.tick();
    };
    await only(3 * MIN, ['lhr']);
    const withdraw = () => steps().then((s) => s.find((x) => x.kind === 'withdraw-unicast'));
    assert.equal((await withdraw())?.state, 'refused');
    assert.ok(
      (await withdraw())?.refusal?.every((r) => r.missingData),
      JSON.stringify((await withdraw())?.refusal),
    );
    for (let i = 0; i < 8; i++) await only(MIN, ['lhr']);
    const refused = await withdraw();
    assert.equal(refused?.state, 'refused');
    assert.ok((refused?.params.attempts ?? 0) > 3, `asked again past the rule limit: ${refused?.params.attempts}`);
    assert.deepEqual(
      (await automation()).map((a) => a.kind),
      ['dns-shift'],
      'the run held at the withdrawal: it did not escalate past it',
    );
    // Every agent reports again: the withdrawal goes through at its next attempt.
    await tickAfter(5 * MIN);
    assert.equal((await withdraw())?.state, 'applied');
    const [run] = await database.db.select().from(schema.playbookRuns).where(eq(schema.playbookRuns.state, 'acting'));
    assert.ok(run, 'the run is still acting');
  });
});
