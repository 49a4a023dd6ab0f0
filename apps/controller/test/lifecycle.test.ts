import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_WATERMARKS, edgeWatermarks, settledLoadRps } from '@catchment/core';
import { type Database, decideStage, latestSnapshot, schema } from '@catchment/db';
import { DB_MODES, freshDatabase, sharedCluster } from '@catchment/testkit';
import {
  activeActions,
  addPlaybook,
  FakeClock,
  MIN,
  NORMAL_LOADS,
  reportLoads,
  seedWorld,
  setAlert,
  webhookSink,
} from '@catchment/testkit/world';
import { asc, eq } from 'drizzle-orm';
import { Controller } from '../src/index.ts';

// Started at the top level, so that the cluster lives as long as the file (see the report).
await sharedCluster();

for (const mode of DB_MODES) {
  describe(`run lifecycle on ${mode}`, () => {
    let database: Database;
    let ids: Map<string, number>;
    let sink: Awaited<ReturnType<typeof webhookSink>>;
    before(async () => {
      sink = await webhookSink();
    });
    after(async () => {
      await sink.close();
    });

    async function setup(playbookMode: 'auto' | 'approve' | 'dry-run') {
      database = await freshDatabase(mode);
      ids = await seedWorld(database.db);
      await addPlaybook(database.db, {
        name: 'shed-overloaded-edge',
        mode: playbookMode,
        trigger: { alert: { alertname: 'EdgeOverloaded' } },
        cooldown: '10m',
      });
      const clock = new FakeClock();
      const controller = new Controller({
        database,
        now: clock.now,
        schedule: false,
        http: false,
        webhookUrl: sink.url,
        name: 'controller:test',
      });
      await controller.start();
      await reportLoads(database.db, ids, NORMAL_LOADS, clock.now());
      return { controller, clock };
    }

    it('trigger → every step in order → mitigated → recovering (reverse, after dwell) → resolved', async () => {
      sink.bodies.length = 0;
      const { controller, clock } = await setup('auto');
      const db = database.db;
      try {
        const states: string[] = [];
        const snapshotsSeen: string[] = [];
        const undoTimes: number[] = [];
        await setAlert(db, ids, 'lhr', 'firing', clock.now());
        for (let minute = 0; minute <= 60; minute++) {
          if (minute === 12) await setAlert(db, ids, 'lhr', 'resolved', clock.now());
          await reportLoads(db, ids, NORMAL_LOADS, clock.now());
          const before = (await activeActions(db)).length;
          await controller.tick();
          const snap = await latestSnapshot(db);
          if (snap) {
            const lhr = snap.body.edges.find((e) => e.name === 'lhr');
            const effects = [
              `shift ${lhr?.shiftPercent}${lhr?.shiftPercent ? ` to ${lhr.shiftTargets.join(',')}` : ''}`,
            ];
            for (const a of snap.body.announcements.filter((x) => x.edge === 'lhr')) {
              if (a.state === 'withdrawn') effects.push(`withdrawn ${a.prefix}`);
              // transit-a's intent: on transit-a's sessions only, never on the route for every transit.
              if (a.transitCommunities?.['transit-a']?.includes('64500:2002'))
                effects.push(`community 64500:2002 on ${a.prefix}`);
              if (a.communities.includes('64500:2002')) effects.push(`leaked 64500:2002 on ${a.prefix}`);
            }
            effects.push(`dsr ${snap.body.dsr.find((d) => d.edge === 'lhr')?.fraction}`);
            if (snapshotsSeen.at(-1) !== effects.join('; ')) snapshotsSeen.push(effects.join('; '));
          }
          const run = (await db.select().from(schema.playbookRuns))[0];
          if (run && states.at(-1) !== run.state) states.push(run.state);
          if (run?.state === 'recovering' || run?.state === 'resolved') {
            if ((await activeActions(db)).length < before) undoTimes.push(minute);
          }
          clock.advance(MIN);
        }
        assert.deepEqual(states, ['acting', 'mitigated', 'recovering', 'resolved']);
        const all = await db.select().from(schema.actions).orderBy(asc(schema.actions.id));
        const label = (a: (typeof all)[number]) => {
          const p = a.params as Record<string, unknown>;
          return a.kind === 'dns-shift'
            ? `dns-shift ${p.percent}`
            : a.kind === 'withdraw-unicast'
              ? `withdraw ${p.prefix}`
              : a.kind;
        };
        assert.deepEqual(all.map(label), [
          'dns-shift 10',
          'dns-shift 25',
          'dns-shift 50',
          'withdraw 198.18.4.0/24',
          'withdraw 2001:db8:104::/48',
          'communities',
          'dsr-shed',
          'dns-shift 25',
          'dns-shift 10',
        ]);
        // Every automated action says when it ends and is attributed to the run.
        const run0 = (await db.select().from(schema.playbookRuns))[0];
        for (const a of all) {
          assert.equal(a.source, 'automation');
          assert.ok(a.expiresAt, 'has an expiry');
          assert.match(a.reason, /reverted when the run recovers/);
          assert.equal(a.runId, run0?.id);
          assert.ok(a.revertedAt, `${label(a)} reverted at the end`);
        }
        // Undone in reverse order of application (dns-shift 10 and 25 were superseded on the way up).
        const reverts = [...all].sort(
          (a, b) => (a.revertedAt?.getTime() ?? 0) - (b.revertedAt?.getTime() ?? 0) || a.id - b.id,
        );
        assert.deepEqual(reverts.map(label), [
          'dns-shift 10',
          'dns-shift 25',
          'dsr-shed',
          'communities',
          'withdraw 198.18.4.0/24',
          'withdraw 2001:db8:104::/48',
          'dns-shift 50',
          'dns-shift 25',
          'dns-shift 10',
        ]);
        // One undo at a time, each after its stage's dwell (5 or 10 minutes) under the exit threshold.
        const gaps = undoTimes.slice(1).map((t, i) => t - (undoTimes[i] ?? 0));
        assert.ok(undoTimes[0] !== undefined && undoTimes[0] >= 12 + 5, `first undo after the dwell: ${undoTimes}`);
        assert.ok(
          gaps.every((g) => g >= 5),
          `undo gaps ${gaps}`,
        );
        assert.equal((await activeActions(db)).length, 0);
        // Predictions spread over several targets, under their thresholds; observed loads recorded.
        const steps = await db.select().from(schema.runSteps).orderBy(asc(schema.runSteps.id));
        const first = steps.find((s) => s.kind === 'dns-shift' && s.stage === 0);
        const predicted = first?.predicted as {
          movedRps: number;
          targets: { edge: string; predictedUtilisation: number; threshold: number }[];
        };
        assert.ok(predicted.targets.length >= 2);
        // lhr at 28000 of 30000 rps sheds by its watermarks already: a 10 % shift lowers its demand
        // to 25200, so they give blocks back; the prediction counts that (packages/core settledLoadRps).
        const marks = edgeWatermarks({ capacityRps: 30_000, loadRps: 28_000, threshold: 0.85 }, DEFAULT_WATERMARKS, 0);
        const lhr = { capacityRps: 30_000, watermarks: marks };
        const relief = settledLoadRps(lhr, 28_000, 28_000) - settledLoadRps(lhr, 28_000, 25_200);
        assert.ok(marks.percent > 0 && relief > 0 && relief < 2800);
        assert.ok(
          Math.abs(predicted.movedRps - relief) < 1e-6,
          `10 % of 28000 rps less what the watermarks give back (${relief}), got ${predicted.movedRps}`,
        );
        for (const t of predicted.targets) assert.ok(t.predictedUtilisation <= t.threshold);
        assert.ok(
          steps.every((s) => s.observed !== null || s.kind === 'notify'),
          'every stage has observed loads',
        );
        // The published snapshots carried each effect, then none.
        const effects = snapshotsSeen.join('\n');
        for (const e of [
          'shift 10',
          'shift 25',
          'shift 50',
          'withdrawn 198.18.4.0/24',
          'community 64500:2002',
          'dsr 16384',
        ]) {
          assert.ok(effects.includes(e), `a snapshot had ${e}:\n${effects}`);
        }
        assert.ok(!effects.includes('leaked'), `no route carried transit-a's value:\n${effects}`);
        assert.equal(snapshotsSeen.at(-1), 'shift 0; dsr 0', 'the last snapshot is back to normal');
        await controller.notifier.flush();
        const events = sink.bodies.map((b) => (b.catchment as { event: string }).event);
        for (const e of ['started', 'escalated', 'message', 'mitigated', 'recovering', 'resolved']) {
          assert.ok(events.includes(e), `notified ${e}: ${events}`);
        }
        assert.match(String(sink.bodies[0]?.text), /shed-overloaded-edge on lhr/);
        // Cooldown: the alert fires again right away, no new run for 10 minutes.
        await setAlert(db, ids, 'lhr', 'firing', clock.now());
        await reportLoads(db, ids, NORMAL_LOADS, clock.now());
        assert.deepEqual((await controller.tick()).started, []);
        clock.advance(11 * MIN);
        await reportLoads(db, ids, NORMAL_LOADS, clock.now());
        assert.equal((await controller.tick()).started.length, 1);
      } finally {
        await controller.stop();
        await database.close();
      }
    });

    it('a run whose playbook is deleted mid-run continues from the definition it started with, and undoes everything', async () => {
      const { controller, clock } = await setup('auto');
      const db = database.db;
      try {
        const states: string[] = [];
        await setAlert(db, ids, 'lhr', 'firing', clock.now());
        for (let minute = 0; minute <= 60; minute++) {
          if (minute === 2) {
            await db.delete(schema.playbooks).where(eq(schema.playbooks.name, 'shed-overloaded-edge'));
            const [run] = await db.select().from(schema.playbookRuns);
            assert.equal(run?.playbookId, null, 'the run stays, detached from the deleted playbook');
            assert.ok((await activeActions(db)).length > 0, 'the run had acted before the delete');
          }
          if (minute === 12) await setAlert(db, ids, 'lhr', 'resolved', clock.now());
          await reportLoads(db, ids, NORMAL_LOADS, clock.now());
          await controller.tick();
          const run = (await db.select().from(schema.playbookRuns))[0];
          if (run && states.at(-1) !== run.state) states.push(run.state);
          clock.advance(MIN);
        }
        assert.deepEqual(states, ['acting', 'mitigated', 'recovering', 'resolved']);
        assert.deepEqual(await activeActions(db), [], 'every action of the run is reverted');
        const kinds = (await db.select().from(schema.actions)).map((a) => a.kind);
        assert.ok(kinds.includes('dsr-shed'), `the last step of the stored definition ran: ${kinds}`);
      } finally {
        await controller.stop();
        await database.close();
      }
    });

    it('approval mode waits for an operator, applies what is approved, skips what is rejected', async () => {
      sink.bodies.length = 0;
      const { controller, clock } = await setup('approve');
      const db = database.db;
      try {
        await setAlert(db, ids, 'lhr', 'firing', clock.now());
        await controller.tick();
        let run = (await db.select().from(schema.playbookRuns))[0];
        assert.equal(run?.state, 'awaiting-approval');
        assert.equal((await activeActions(db)).length, 0);
        const pending = await db.select().from(schema.runSteps).where(eq(schema.runSteps.state, 'awaiting-approval'));
        assert.equal(pending.length, 1);
        assert.ok(
          ((pending[0]?.predicted ?? { movedRps: 0 }) as { movedRps: number }).movedRps > 0,
          'the plan is visible before it acts',
        );
        clock.advance(5 * MIN);
        await reportLoads(db, ids, NORMAL_LOADS, clock.now());
        await controller.tick();
        assert.equal((await activeActions(db)).length, 0, 'nothing happens without approval');
        await decideStage(db, run?.id ?? 0, 'approved', 'alice', 'go', clock.now());
        await controller.tick();
        const active = await activeActions(db);
        assert.deepEqual(
          active.map((a) => [a.kind, (a.params as { percent: number }).percent]),
          [['dns-shift', 10]],
        );
        const approved = (await db.select().from(schema.runSteps).where(eq(schema.runSteps.stage, 0)))[0];
        assert.equal(approved?.decidedBy, 'alice');
        clock.advance(3 * MIN);
        await reportLoads(db, ids, NORMAL_LOADS, clock.now());
        await controller.tick();
        run = (await db.select().from(schema.playbookRuns))[0];
        assert.equal(run?.state, 'awaiting-approval', 'the next stage waits for approval too');
        await decideStage(db, run?.id ?? 0, 'rejected', 'alice', 'not now', clock.now());
        await controller.tick();
        // Rejecting dns-shift 25 % skips the rest of the schedule: withdraw-unicast is proposed next.
        const next = await db.select().from(schema.runSteps).where(eq(schema.runSteps.state, 'awaiting-approval'));
        assert.equal(next[0]?.kind, 'withdraw-unicast');
        // The API approves whole runs (POST /v1/runs/:id/approve): state 'approved' plus an audit record.
        const pendingRun = (await db.select().from(schema.playbookRuns))[0];
        await db
          .update(schema.playbookRuns)
          .set({ state: 'approved' })
          .where(eq(schema.playbookRuns.id, pendingRun?.id ?? 0));
        await db.insert(schema.auditLog).values({
          actor: 'bob',
          action: 'approve',
          objectType: 'run',
          objectId: String(pendingRun?.id),
          reason: 'go ahead',
          at: clock.now(),
        });
        await controller.tick();
        const withdrawals = (await activeActions(db)).filter((a) => a.kind === 'withdraw-unicast');
        assert.equal(withdrawals.length, 2, 'the approved stage is applied');
        const decided = (
          await db.select().from(schema.runSteps).where(eq(schema.runSteps.kind, 'withdraw-unicast'))
        )[0];
        assert.equal(decided?.decidedBy, 'bob');
        clock.advance(3 * MIN);
        await reportLoads(db, ids, NORMAL_LOADS, clock.now());
        await controller.tick();
        // The alert resolves while waiting: the pending stage is cancelled.
        await setAlert(db, ids, 'lhr', 'resolved', clock.now());
        await controller.tick();
        const cancelled = await db.select().from(schema.runSteps).where(eq(schema.runSteps.state, 'cancelled'));
        assert.equal(cancelled.length, 1);
        await controller.notifier.flush();
        const events = sink.bodies.map((b) => (b.catchment as { event: string }).event);
        assert.ok(events.includes('approval-needed'));
      } finally {
        await controller.stop();
        await database.close();
      }
    });

    it('dry-run mode plans and records every stage but writes no action', async () => {
      const { controller, clock } = await setup('dry-run');
      const db = database.db;
      try {
        await setAlert(db, ids, 'lhr', 'firing', clock.now());
        for (let minute = 0; minute < 15; minute++) {
          await reportLoads(db, ids, NORMAL_LOADS, clock.now());
          await controller.tick();
          clock.advance(MIN);
        }
        assert.equal((await db.select().from(schema.actions)).length, 0);
        const steps = await db.select().from(schema.runSteps).orderBy(asc(schema.runSteps.id));
        assert.deepEqual(
          steps.map((s) => `${s.kind}:${s.state}`),
          [
            'dns-shift:superseded',
            'dns-shift:superseded',
            'dns-shift:dry-run',
            'withdraw-unicast:dry-run',
            'communities:dry-run',
            'dsr-shed:dry-run',
            'notify:sent',
          ],
        );
        assert.ok(steps.filter((s) => s.kind !== 'notify').every((s) => s.predicted !== null));
        assert.equal((await db.select().from(schema.snapshots)).length, 1, "only the new leader's initial publication");
      } finally {
        await controller.stop();
        await database.close();
      }
    });
  });
}
