import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { schema } from '@catchment/db';
import { DB_MODES } from '@catchment/testkit';
import { reportAgents } from '@catchment/testkit/api-harness';
import { eq } from 'drizzle-orm';
import { buildWorld, dbFingerprint, startTestApi, type TestApi } from './helpers.ts';

const fra24 = encodeURIComponent('198.18.1.0/24');

/** The edges' agents report their load and that they export what they announce. */
async function report(t: TestApi, loads: Record<string, number>) {
  await reportAgents(t, loads);
  // The load-only publication these reports may cause is done before the test looks.
  await t.api.app.catchment.loads?.idle();
}

for (const mode of DB_MODES) {
  describe(`operator actions on ${mode}`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode);
      await buildWorld(t);
    });
    after(() => t.close());

    it('dry run returns the snapshot diff and changes nothing', async () => {
      const version = (await t.call('GET', '/v1/snapshot')).body.version;
      const before = await dbFingerprint(t);
      const dry = await t.call('POST', '/v1/edges/lhr/drain', { body: { reason: 'preview', dryRun: true } });
      assert.equal(dry.status, 200, dry.text);
      assert.equal(dry.body.dryRun, true);
      assert.equal(dry.body.wouldPublish, true);
      assert.equal(dry.body.refusal, null);
      assert.deepEqual(
        dry.body.diff.find((c: { path: string }) => c.path === '/edges/lhr/override'),
        { path: '/edges/lhr/override', before: 'none', after: 'drain' },
      );
      assert.equal(await dbFingerprint(t), before);
      assert.equal((await t.call('GET', '/v1/snapshot')).body.version, version, 'nothing published');
    });

    it('drain: requires a reason, publishes a snapshot, is audited, and undrain reverts it', async () => {
      const noReason = await t.call('POST', '/v1/edges/lhr/drain', { body: {} });
      assert.equal(noReason.status, 422);
      const v0 = (await t.call('GET', '/v1/snapshot')).body.version;
      const drained = await t.call('POST', '/v1/edges/lhr/drain', { body: { reason: 'fibre cut', ttl: '2h' } });
      assert.equal(drained.status, 201, drained.text);
      assert.equal(drained.body.action.kind, 'drain');
      assert.equal(drained.body.action.active, true);
      assert.ok(Date.parse(drained.body.action.expiresAt) > Date.now() + 7_000_000);
      assert.equal(drained.body.snapshotVersion, v0 + 1);
      const snap = await t.call('GET', '/v1/snapshot');
      assert.equal(snap.body.version, v0 + 1);
      assert.equal(snap.body.body.edges.find((e: { name: string }) => e.name === 'lhr').override, 'drain');
      const audit = await t.call('GET', `/v1/audit?objectType=action&objectId=${drained.body.action.id}`);
      assert.equal(audit.body.items[0].reason, 'fibre cut');
      assert.equal(audit.body.items[0].actor, 'token:test-admin');

      const undrain = await t.call('POST', '/v1/edges/lhr/undrain', { body: { reason: 'repaired' } });
      assert.equal(undrain.status, 200, undrain.text);
      assert.deepEqual(
        undrain.body.reverted.map((a: { id: number }) => a.id),
        [drained.body.action.id],
      );
      assert.equal(undrain.body.snapshotVersion, v0 + 2);
      const again = await t.call('POST', '/v1/edges/lhr/undrain', { body: { reason: 'repaired' } });
      assert.equal(again.status, 200);
      assert.deepEqual(again.body.reverted, [], 'undo is idempotent');
      assert.equal(again.body.snapshotVersion, v0 + 2, 'nothing new to publish');
    });

    it('idempotency keys: a retry returns the original action, a different request with the key is refused', async () => {
      const req = {
        body: { reason: 'shift for test', params: { percent: 20 } },
        headers: { 'idempotency-key': 'shift-sin-1' },
      };
      const results = await Promise.all([1, 2, 3].map(() => t.call('POST', '/v1/edges/sin/shift', req)));
      for (const r of results) assert.equal(r.status, 201, r.text);
      const ids = new Set(results.map((r) => r.body.action.id));
      assert.equal(ids.size, 1, 'one action for three concurrent tries');
      assert.equal(results.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 2);
      const rows = await t.database.db.select().from(schema.actions).where(eq(schema.actions.kind, 'dns-shift'));
      assert.equal(rows.length, 1);
      const before = await dbFingerprint(t);
      const reused = await t.call('POST', '/v1/edges/sin/shift', {
        ...req,
        body: { reason: 'other', params: { percent: 30 } },
      });
      assert.equal(reused.status, 422);
      assert.equal(reused.body.code, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal(await dbFingerprint(t), before);
      const undo = await t.call('POST', '/v1/edges/sin/unshift', { body: { reason: 'done' } });
      assert.equal(undo.body.reverted.length, 1);
    });

    it('checks action input: parameters, targets, communities, prefixes', async () => {
      const cases: [string, string, unknown, number, string][] = [
        [
          '/v1/actions',
          'bad percent',
          { kind: 'dns-shift', edge: 'fra', reason: 'x', params: { percent: 150 } },
          422,
          'VALIDATION_FAILED',
        ],
        ['/v1/actions', 'unknown edge', { kind: 'drain', edge: 'nowhere', reason: 'x' }, 404, 'NOT_FOUND'],
        ['/v1/actions', 'edge missing', { kind: 'drain', reason: 'x' }, 422, 'VALIDATION_FAILED'],
        [
          '/v1/edges/fra/shift',
          'unknown target',
          { reason: 'x', params: { percent: 5, targets: ['nowhere'] } },
          422,
          'REFERENCE_UNKNOWN',
        ],
        [
          '/v1/edges/fra/communities',
          'bad community',
          { reason: 'x', params: { communities: ['70000:1'] } },
          422,
          'COMMUNITY_INVALID',
        ],
        [
          '/v1/actions',
          'not its prefix',
          { kind: 'withdraw-unicast', edge: 'iad', reason: 'x', params: { prefix: '198.18.1.0/24' } },
          422,
          'VALIDATION_FAILED',
        ],
        ['/v1/prefixes/198.18.0.0%2F20/withdraw', 'anycast withdraw', { reason: 'x' }, 409, 'STATE_CONFLICT'],
        [
          '/v1/edges/fra/drain',
          'expiry in the past',
          { reason: 'x', expiresAt: '2000-01-01T00:00:00Z' },
          422,
          'VALIDATION_FAILED',
        ],
      ];
      for (const [path, what, body, status, code] of cases) {
        const before = await dbFingerprint(t);
        const r = await t.call('POST', path, { body });
        assert.equal(r.status, status, `${what}: ${r.text}`);
        assert.equal(r.body.code, code, what);
        assert.equal(await dbFingerprint(t), before, `${what}: nothing changed`);
      }
    });

    it('freeze and unfreeze automation, globally and per edge; communities and DSR land in the snapshot', async () => {
      assert.equal((await t.call('POST', '/v1/automation/freeze', { body: { reason: 'change window' } })).status, 201);
      assert.equal((await t.call('POST', '/v1/edges/fra/freeze', { body: { reason: 'investigating' } })).status, 201);
      let body = (await t.call('GET', '/v1/snapshot')).body.body;
      assert.deepEqual(body.automation, { frozen: true, frozenEdges: ['fra'] });
      await t.call('POST', '/v1/automation/unfreeze', { body: { reason: 'over' } });
      await t.call('POST', '/v1/edges/fra/unfreeze', { body: { reason: 'over' } });
      const comm = await t.call('POST', '/v1/edges/lhr/communities', {
        body: { reason: 'prepend', params: { communities: ['64500:2002'] } },
      });
      assert.equal(comm.status, 201, comm.text);
      const dsr = await t.call('POST', '/v1/edges/lhr/dsr', {
        body: { reason: 'shed', params: { fraction: 0.1, targets: ['fra'] } },
      });
      assert.equal(dsr.status, 201, dsr.text);
      body = (await t.call('GET', '/v1/snapshot')).body.body;
      assert.deepEqual(body.automation, { frozen: false, frozenEdges: [] });
      const ann = body.announcements.find(
        (a: { edge: string; prefix: string }) => a.edge === 'lhr' && a.prefix === '198.18.4.0/24',
      );
      assert.ok(ann.communities.includes('64500:2002'));
      const lhrDsr = body.dsr.find((d: { edge: string }) => d.edge === 'lhr');
      assert.equal(lhrDsr.enabled, true);
      assert.equal(lhrDsr.fraction, Math.round(0.1 * 65536));
      assert.equal((await t.call('POST', '/v1/edges/lhr/undsr', { body: { reason: 'x' } })).body.reverted.length, 1);
      assert.equal(
        (await t.call('POST', '/v1/edges/lhr/clear-communities', { body: { reason: 'x' } })).body.reverted.length,
        1,
      );
    });

    it('expired actions are no longer active', async () => {
      const r = await t.call('POST', '/v1/edges/iad/freeze', { body: { reason: 'brief', ttl: '1s' } });
      assert.equal(r.status, 201);
      await new Promise((res) => setTimeout(res, 1100));
      const got = await t.call('GET', `/v1/actions/${r.body.action.id}`);
      assert.equal(got.body.active, false);
      const active = await t.call('GET', '/v1/actions?active=true&kind=freeze');
      assert.ok(!active.body.items.some((a: { id: number }) => a.id === r.body.action.id));
    });

    it('playbook runs: approve or reject the waiting stage, abort reverts the run’s actions', async () => {
      const db = t.database.db;
      const [pb] = await db.select().from(schema.playbooks);
      const edges = await db.select().from(schema.edges);
      const edgeId = (n: string) => edges.find((e) => e.name === n)?.id ?? null;
      // Runs as the controller writes them: the stage waiting for an operator is a run_steps row.
      const newRun = async (edge: string) => {
        const [run] = await db
          .insert(schema.playbookRuns)
          .values({
            playbookId: pb?.id ?? 0,
            edgeId: edgeId(edge),
            state: 'awaiting-approval',
            mode: 'approve',
            trigger: { slo: 'lhr-utilisation' },
          })
          .returning();
        const id = run?.id ?? 0;
        await db.insert(schema.runSteps).values({
          runId: id,
          position: 0,
          stage: 0,
          kind: 'dns-shift',
          state: 'awaiting-approval',
          params: { percent: 10 },
        });
        return id;
      };
      const id = await newRun('lhr');
      const listed = await t.call('GET', '/v1/runs?state=awaiting-approval');
      assert.deepEqual(
        listed.body.items.map((r: { id: number }) => r.id),
        [id],
      );
      const approved = await t.call('POST', `/v1/runs/${id}/approve`, {
        body: { reason: 'looks right' },
        token: t.tokens.operator,
      });
      assert.equal(approved.status, 200, approved.text);
      assert.equal(approved.body.steps[0].state, 'approved');
      assert.equal(approved.body.steps[0].decidedBy, 'token:test-operator');
      const twice = await t.call('POST', `/v1/runs/${id}/approve`, { body: { reason: 'again' } });
      assert.equal(twice.status, 409);
      assert.equal(twice.body.code, 'STATE_CONFLICT');
      const audit = await t.call('GET', `/v1/audit?objectType=run&objectId=${id}&action=approve`);
      assert.equal(audit.body.items[0].reason, 'looks right');

      const other = await newRun('sin');
      const rejected = await t.call('POST', `/v1/runs/${other}/reject`, { body: { reason: 'not now' } });
      assert.equal(rejected.body.steps[0].state, 'rejected');

      await db.insert(schema.actions).values({
        kind: 'dns-shift',
        edgeId: edgeId('lhr'),
        params: { percent: 10 },
        reason: 'playbook',
        actor: 'controller',
        source: 'automation',
        runId: id,
      });
      const aborted = await t.call('POST', `/v1/runs/${id}/abort`, { body: { reason: 'stop' } });
      assert.equal(aborted.status, 200, aborted.text);
      assert.equal(aborted.body.state, 'aborted');
      assert.ok(aborted.body.endedAt);
      const acts = await t.call('GET', '/v1/actions?kind=dns-shift&active=true');
      assert.equal(acts.body.items.length, 0, 'the run’s action was reverted');
      const again = await t.call('POST', `/v1/runs/${id}/abort`, { body: { reason: 'again' } });
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'STATE_CONFLICT');
      assert.equal((await t.call('POST', `/v1/runs/${other}/abort`, { body: { reason: 'tidy' } })).status, 200);
      assert.equal((await t.call('GET', '/v1/runs/999999')).status, 404);
    });
  });

  describe(`safety rules on ${mode}`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode);
      await buildWorld(t);
    });
    after(() => t.close());

    it('coverage before withdrawal: refused with the rule, then forced and audited as forced', async () => {
      // iad has no headroom, so the /20 has one healthy announcer besides fra: K = 2 is not met.
      await report(t, { iad: 110000, sin: 20000, fra: 30000, lhr: 5000 });
      const before = await dbFingerprint(t);
      const refused = await t.call('POST', `/v1/prefixes/${fra24}/withdraw`, { body: { reason: 'test' } });
      assert.equal(refused.status, 409, refused.text);
      assert.equal(refused.body.code, 'SAFETY_REFUSED');
      assert.equal(refused.body.details.rule, 'coverage');
      assert.equal(refused.body.details.needed, 2);
      assert.equal(refused.body.details.prefix, '198.18.1.0/24');
      assert.equal(await dbFingerprint(t), before);
      const dry = await t.call('POST', `/v1/prefixes/${fra24}/withdraw`, { body: { reason: 'test', dryRun: true } });
      assert.equal(dry.body.refusal.rule, 'coverage');

      const forced = await t.call('POST', `/v1/prefixes/${fra24}/withdraw`, {
        body: { reason: 'upstream asked', force: true },
      });
      assert.equal(forced.status, 201, forced.text);
      assert.equal(forced.body.forced, true);
      assert.equal(forced.body.refusal.rule, 'coverage');
      const ann = (await t.call('GET', '/v1/snapshot')).body.body.announcements.find(
        (a: { edge: string; prefix: string }) => a.edge === 'fra' && a.prefix === '198.18.1.0/24',
      );
      assert.equal(ann.state, 'withdrawn');
      const audit = await t.call('GET', '/v1/audit?forced=true');
      assert.equal(audit.body.items[0].objectId, String(forced.body.action.id));
      assert.equal(audit.body.items[0].after.refusal.rule, 'coverage');
      const restored = await t.call('POST', `/v1/prefixes/${fra24}/restore`, { body: { reason: 'done' } });
      assert.equal(restored.body.reverted.length, 1);
    });

    it('capacity: a shift that would push a target past its limit is refused with the predicted loads', async () => {
      await report(t, { fra: 80000, iad: 100000, sin: 60000, lhr: 28000 });
      const r = await t.call('POST', '/v1/edges/lhr/shift', { body: { reason: 'x', params: { percent: 100 } } });
      assert.equal(r.status, 409, r.text);
      assert.equal(r.body.details.rule, 'capacity');
      // packages/safety names the first target over its threshold, with the numbers.
      assert.ok(['fra', 'iad', 'sin'].includes(r.body.details.target), r.text);
      assert.ok(r.body.details.predictedUtilisation > r.body.details.threshold);
      assert.equal(r.body.details.threshold, 0.85);
      // A drain is an operator override, judged by the same packages/safety rule as shedding all of lhr's load.
      const drain = await t.call('POST', '/v1/edges/lhr/drain', { body: { reason: 'x' } });
      assert.equal(drain.status, 409, drain.text);
      assert.equal(drain.body.details.rule, 'capacity');
      assert.ok(['fra', 'iad', 'sin'].includes(drain.body.details.target), drain.text);
      assert.ok(drain.body.details.predictedUtilisation > drain.body.details.threshold);
      assert.equal(drain.body.details.threshold, 0.85);
      const small = await t.call('POST', '/v1/edges/lhr/shift', { body: { reason: 'x', params: { percent: 10 } } });
      assert.equal(small.status, 201, small.text);
      await t.call('POST', '/v1/edges/lhr/unshift', { body: { reason: 'x' } });
    });

    it('blast radius: at most M edges shed at once', async () => {
      await report(t, { fra: 10000, iad: 10000, sin: 10000, lhr: 1000 });
      assert.equal(
        (await t.call('POST', '/v1/edges/lhr/shift', { body: { reason: 'a', params: { percent: 10 } } })).status,
        201,
      );
      assert.equal(
        (await t.call('POST', '/v1/edges/sin/shift', { body: { reason: 'b', params: { percent: 10 } } })).status,
        201,
      );
      const third = await t.call('POST', '/v1/edges/iad/shift', { body: { reason: 'c', params: { percent: 10 } } });
      assert.equal(third.status, 409, third.text);
      assert.equal(third.body.details.rule, 'blast-radius');
      assert.deepEqual(third.body.details.shedEdges, ['iad', 'lhr', 'sin']);
      // Undoing is never blocked by the rule that limits doing.
      assert.equal((await t.call('POST', '/v1/edges/sin/unshift', { body: { reason: 'b' } })).status, 200);
      assert.equal((await t.call('POST', '/v1/edges/lhr/unshift', { body: { reason: 'a' } })).status, 200);
    });

    it('routes: forcing down the last edges that announce a service is refused', async () => {
      await t.call('PUT', '/v1/settings', {
        body: { maxEdgesShed: 10, maxCapacityShedPercent: 100, coverageMinAnnouncers: 1 },
      });
      await report(t, { fra: 0, iad: 0, sin: 0, lhr: 0 });
      for (const e of ['lhr', 'sin', 'iad']) {
        const r = await t.call('POST', `/v1/edges/${e}/force-down`, { body: { reason: 'x' } });
        assert.equal(r.status, 201, `${e}: ${r.text}`);
      }
      const last = await t.call('POST', '/v1/edges/fra/force-down', { body: { reason: 'x' } });
      try {
        assert.equal(last.status, 409, last.text);
        // packages/routing judges it: fra's /24 would lose its coverage and the service its last route.
        assert.ok(['coverage', 'last-route'].includes(last.body.details.rule), last.text);
      } finally {
        for (const e of ['lhr', 'sin', 'iad'])
          await t.call('POST', `/v1/edges/${e}/release`, { body: { reason: 'x' } });
      }
    });

    it('service answer: draining the only edge of a service without anycast is refused', async () => {
      const svc = { name: 'api', zone: 'example.net', addresses: { lhr: { v4: ['198.18.4.20'] } }, anycast: {} };
      assert.equal((await t.call('POST', '/v1/services', { body: svc })).status, 201);
      const r = await t.call('POST', '/v1/edges/lhr/drain', { body: { reason: 'x' } });
      assert.equal(r.status, 409, r.text);
      assert.equal(r.body.details.rule, 'service-answer');
      assert.equal(r.body.details.service, 'api.example.net');
      assert.equal((await t.call('DELETE', '/v1/services/api.example.net')).status, 204);
    });

    it('route-change budget: a prefix flaps at most N times an hour', async () => {
      await report(t, { fra: 0, iad: 0, sin: 0, lhr: 0 });
      const put = await t.call('PUT', '/v1/settings', { body: { routeChangesPerPrefixPerHour: 2 } });
      assert.equal(put.status, 200, put.text);
      const lhr24 = encodeURIComponent('198.18.4.0/24');
      assert.equal((await t.call('POST', `/v1/prefixes/${lhr24}/withdraw`, { body: { reason: '1' } })).status, 201);
      assert.equal((await t.call('POST', `/v1/prefixes/${lhr24}/restore`, { body: { reason: '2' } })).status, 200);
      const third = await t.call('POST', `/v1/prefixes/${lhr24}/withdraw`, { body: { reason: '3' } });
      assert.equal(third.status, 409, third.text);
      // One rule name for the API and the controller (it was routing's 'route-change-budget').
      assert.equal(third.body.details.rule, 'route-budget');
    });
  });
}
