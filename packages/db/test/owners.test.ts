import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CatchmentError } from '@catchment/core';
import { DB_MODES, freshDatabase } from '@catchment/testkit';
import { addPlaybook, seedWorld } from '@catchment/testkit/world';
import { and, eq } from 'drizzle-orm';
import {
  abortRun,
  type Db,
  decideStage,
  ingestSignal,
  insertAction,
  recordEvaluation,
  runById,
  schema,
  startRun,
  updateRun,
  upsertStep,
} from '../src/index.ts';

// The table owners (runs, stages, signals): each write that changes a state records its
// audit entry with it, and refuses what it cannot do with a named code.

const NOW = new Date('2026-11-22T02:00:00Z');
const audits = (db: Db, objectType: string, objectId: string) =>
  db
    .select()
    .from(schema.auditLog)
    .where(and(eq(schema.auditLog.objectType, objectType), eq(schema.auditLog.objectId, objectId)));
const code = (err: unknown) => (err as CatchmentError).code;

for (const mode of DB_MODES) {
  describe(`table owners (${mode})`, () => {
    it('runs and stages: start, transition, decide and abort each leave their audit entry', async () => {
      const database = await freshDatabase(mode);
      const db = database.db;
      try {
        const ids = await seedWorld(db);
        const pb = await addPlaybook(db, { name: 'shed', mode: 'approve', trigger: { slo: 'lhr-utilisation' } });
        const values = {
          playbookId: pb,
          edgeId: ids.get('lhr') ?? 0,
          mode: 'approve' as const,
          trigger: {},
          machine: { seq: 0 },
        };
        const audit = { actor: 'controller', reason: 'over its threshold', after: { edge: 'lhr' }, at: NOW };
        const id = (await startRun(db, values, audit)) ?? 0;
        assert.ok(id > 0);
        assert.equal(await startRun(db, values, audit), undefined, 'one open run per playbook and edge');
        assert.deepEqual(
          (await audits(db, 'playbook_run', String(id))).map((a) => a.action),
          ['start'],
        );

        const run = (await runById(db, id))!;
        await db.transaction((tx) => updateRun(tx, run, { memory: { seq: 1 } }, NOW, 'controller'));
        assert.equal((await audits(db, 'playbook_run', String(id))).length, 1, 'a memory change is no transition');
        const moved = (await runById(db, id))!;
        await db.transaction(async (tx) => {
          await updateRun(tx, moved, { state: 'awaiting-approval', memory: { seq: 2 } }, NOW, 'controller');
          await upsertStep(tx, id, { position: 0, stage: 0, kind: 'dns-shift' }, { state: 'awaiting-approval' });
        });
        await assert.rejects(
          db.transaction((tx) => updateRun(tx, moved, { state: 'acting', memory: { seq: 2 } }, NOW, 'other')),
          (err) => code(err) === 'CONFLICT',
          'a stale memory is refused',
        );
        const transitions = (await audits(db, 'playbook_run', String(id))).filter((a) => a.action === 'transition');
        assert.deepEqual(
          transitions.map((a) => [a.actor, a.before, a.after]),
          [['controller', { state: 'triggered' }, { state: 'awaiting-approval' }]],
        );

        await assert.rejects(decideStage(db, 999_999, 'approved', 'alice', 'go'), (err) => code(err) === 'NOT_FOUND');
        const step = await decideStage(db, id, 'approved', 'alice', 'looks right', NOW);
        assert.equal(step.state, 'approved');
        assert.equal(step.decidedBy, 'alice');
        await assert.rejects(
          decideStage(db, id, 'rejected', 'bob', 'again'),
          (err) => code(err) === 'STATE_CONFLICT',
          'nothing waits for an approval any more',
        );
        const approval = (await audits(db, 'run', String(id))).map((a) => [a.action, a.actor, a.reason]);
        assert.deepEqual(approval, [['approve', 'alice', 'looks right']]);

        const action = await db.transaction((tx) =>
          insertAction(
            tx,
            {
              kind: 'dns-shift',
              edgeId: ids.get('lhr') ?? 0,
              params: { percent: 10 },
              reason: 'run',
              actor: 'controller',
              source: 'automation',
              runId: id,
            },
            { reason: 'run', after: {} },
          ),
        );
        await db.transaction((tx) =>
          upsertStep(tx, id, { position: 0, stage: 0, kind: 'dns-shift' }, { state: 'applied', actionId: action.id }),
        );
        await abortRun(db, id, 'alice', 'stop', NOW);
        const ended = (await runById(db, id))!;
        assert.equal(ended.state, 'aborted');
        const [stage] = await db.select().from(schema.runSteps).where(eq(schema.runSteps.runId, id));
        assert.equal(stage?.state, 'reverted');
        assert.deepEqual(
          (await audits(db, 'action', String(action.id))).map((a) => a.action),
          ['apply', 'revert'],
        );
        assert.ok(
          (await audits(db, 'playbook_run', String(id))).some((a) => a.action === 'abort' && a.reason === 'stop'),
        );
        await assert.rejects(abortRun(db, id, 'alice', 'again'), (err) => code(err) === 'STATE_CONFLICT');
        await assert.rejects(abortRun(db, 999_999, 'alice', 'none'), (err) => code(err) === 'NOT_FOUND');
      } finally {
        await database.close();
      }
    });

    it('signals: firing and resolving are audited once; resends and new values are not', async () => {
      const database = await freshDatabase(mode);
      const db = database.db;
      try {
        const ids = await seedWorld(db);
        const alert = {
          source: 'alertmanager',
          fingerprint: 'f1',
          name: 'EdgeOverloaded',
          status: 'firing' as const,
          labels: { alertname: 'EdgeOverloaded', edge: 'lhr' },
          edge: 'lhr',
          slo: undefined,
          severity: 'page',
          value: null,
          startsAt: NOW,
          endsAt: null,
        };
        const fired = await ingestSignal(db, alert, 'token:am');
        assert.equal(fired.outcome, 'new');
        assert.equal((await ingestSignal(db, alert, 'token:am')).outcome, 'duplicate');
        assert.equal((await ingestSignal(db, { ...alert, status: 'resolved' }, 'token:am')).outcome, 'resolved');
        assert.equal((await ingestSignal(db, { ...alert, status: 'resolved' }, 'token:am')).outcome, 'duplicate');
        assert.deepEqual(
          (await audits(db, 'signal', String(fired.id))).map((a) => [a.action, a.actor]),
          [
            ['fire', 'token:am'],
            ['resolve', 'token:am'],
          ],
        );

        const e = {
          source: 'slo',
          fingerprint: 'lhr-utilisation/lhr',
          slo: 'lhr-utilisation',
          edgeId: ids.get('lhr') ?? 0,
          labels: { alertname: 'SloBreach', edge: 'lhr' },
          value: 0.5,
          now: NOW,
          actor: 'controller:slo',
        };
        assert.equal(await recordEvaluation(db, e, () => 'resolved'), 'resolved');
        const t = new Date(NOW.getTime() + 60_000);
        assert.equal(await recordEvaluation(db, { ...e, value: 0.95, now: t }, () => 'firing'), 'firing');
        assert.equal(await recordEvaluation(db, { ...e, value: 0.97, now: t }, () => 'firing'), 'firing');
        assert.equal(await recordEvaluation(db, { ...e, value: 0.6, now: t }, () => 'resolved'), 'resolved');
        const rows = await db.select().from(schema.signals).where(eq(schema.signals.source, 'slo'));
        assert.equal(rows.length, 2, 'the first evaluation and one episode');
        const episode = rows.find((r) => r.startsAt.getTime() === t.getTime());
        assert.equal(episode?.value, 0.6);
        assert.deepEqual(
          (await audits(db, 'signal', String(episode?.id))).map((a) => a.action),
          ['fire', 'resolve'],
        );
        assert.equal((await audits(db, 'signal', String(rows.find((r) => r !== episode)?.id))).length, 0);
      } finally {
        await database.close();
      }
    });
  });
}
