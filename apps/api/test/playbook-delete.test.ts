import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { schema } from '@catchment/db';
import { DB_MODES } from '@catchment/testkit';
import { PLAYBOOK } from '@catchment/testkit/api-world';
import { eq } from 'drizzle-orm';
import { buildWorld, startTestApi, type TestApi } from './helpers.ts';

/** A run as the controller writes it: the playbook's definition at start is kept in `trigger`. */
async function newRun(t: TestApi, playbook: string, state: string, ended: boolean): Promise<number> {
  const db = t.database.db;
  const [pb] = await db.select().from(schema.playbooks).where(eq(schema.playbooks.name, playbook));
  const [edge] = await db.select().from(schema.edges).where(eq(schema.edges.name, 'lhr'));
  assert.ok(pb && edge);
  const [run] = await db
    .insert(schema.playbookRuns)
    .values({
      playbookId: pb.id,
      edgeId: edge.id,
      state,
      mode: pb.mode,
      trigger: { trigger: pb.trigger, steps: pb.steps, playbook: pb.name, reading: { level: 'over', value: 0.9 } },
      ...(ended ? { endedAt: new Date() } : {}),
    })
    .returning();
  assert.ok(run);
  await db.insert(schema.runSteps).values({
    runId: run.id,
    position: 0,
    stage: 0,
    kind: 'dns-shift',
    state: 'done',
    params: { percent: 10 },
  });
  return run.id;
}

for (const mode of DB_MODES) {
  describe(`deleting a playbook that has run, on ${mode}`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode);
      await buildWorld(t);
    });
    after(() => t.close());

    it('DELETE is 204 and the run keeps its playbook name and definition', async () => {
      const id = await newRun(t, PLAYBOOK.name, 'recovered', true);
      const del = await t.call('DELETE', `/v1/playbooks/${PLAYBOOK.name}`);
      assert.equal(del.status, 204, del.text);
      assert.equal((await t.call('GET', `/v1/playbooks/${PLAYBOOK.name}`)).status, 404);
      const run = await t.call('GET', `/v1/runs/${id}`);
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.playbook, PLAYBOOK.name);
      assert.deepEqual(run.body.trigger.steps, PLAYBOOK.steps);
      assert.equal(run.body.steps.length, 1);
      const listed = await t.call('GET', `/v1/runs?playbook=${PLAYBOOK.name}`);
      assert.deepEqual(
        listed.body.items.map((r: { id: number }) => r.id),
        [id],
      );
    });

    it('an import without a playbook that has run: plan and apply agree, and apply succeeds', async () => {
      const created = await t.call('POST', '/v1/playbooks', { body: { ...PLAYBOOK, name: 'shed-2' } });
      assert.equal(created.status, 201, created.text);
      const id = await newRun(t, 'shed-2', 'recovered', true);
      const config = (await t.call('GET', '/v1/config')).body;
      const without = {
        ...config,
        playbooks: (config.playbooks ?? []).filter((p: { name: string }) => p.name !== 'shed-2'),
      };
      const plan = await t.call('POST', '/v1/config/plan', { body: { config: without } });
      assert.equal(plan.status, 200, plan.text);
      const applied = await t.call('POST', '/v1/config/apply', {
        body: { config: without, checksum: plan.body.checksum, reason: 'retire shed-2' },
      });
      assert.equal(applied.status, 200, applied.text);
      assert.equal(applied.body.applied, true);
      assert.equal((await t.call('GET', '/v1/playbooks/shed-2')).status, 404);
      const run = await t.call('GET', `/v1/runs/${id}`);
      assert.equal(run.body.playbook, 'shed-2');
    });

    it('renaming is a delete and a create: the old run keeps the name it ran under', async () => {
      const created = await t.call('POST', '/v1/playbooks', { body: { ...PLAYBOOK, name: 'shed-3' } });
      assert.equal(created.status, 201, created.text);
      const id = await newRun(t, 'shed-3', 'recovered', true);
      assert.equal((await t.call('DELETE', '/v1/playbooks/shed-3')).status, 204);
      assert.equal((await t.call('POST', '/v1/playbooks', { body: { ...PLAYBOOK, name: 'shed-4' } })).status, 201);
      assert.equal((await t.call('GET', `/v1/runs/${id}`)).body.playbook, 'shed-3');
    });
  });
}
