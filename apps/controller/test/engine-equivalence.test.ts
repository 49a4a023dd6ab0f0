import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createToken, type StartedApi, startApi } from '@catchment/api';
import { DEFAULT_LOAD_STALE_MS, type PlaybookStep } from '@catchment/core';
import { type Database, schema } from '@catchment/db';
import { ENGINE_DEFAULTS, SAFETY_RULES } from '@catchment/safety';
import { DB_MODES, freshDatabase, seededRandom } from '@catchment/testkit';
import { EDGES, seedWorld } from '@catchment/testkit/world';
import { sql } from 'drizzle-orm';
import type { Static } from 'typebox';
import { loadWorld } from '../src/model.ts';
import { planStage } from '../src/planner.ts';
import { stagesOf } from '../src/stages.ts';

/**
 * One decision engine: for random worlds (edge loads, stale reports, states, SLO
 * thresholds, active actions, route-change history) and random changes, the verdict and
 * the predicted loads of an operator action (the API's dry run, over HTTP) equal those
 * of the same change as a playbook step (the controller's planner), on PostgreSQL and
 * PGlite. Worlds leave out what is by design source-dependent: humans win (no freezes
 * or overrides, no other action of the same kind on the changed edge) and automation's
 * hold on an unknown load (the changed edge always reports).
 */

const SAMPLES = 12;
const UNICAST: Record<string, string> = {
  fra: '198.18.1.0/24',
  iad: '198.18.2.0/24',
  sin: '198.18.3.0/24',
  lhr: '198.18.4.0/24',
  gru: '198.18.5.0/24',
  syd: '198.18.6.0/24',
};
type Step = Static<typeof PlaybookStep>;

for (const mode of DB_MODES) {
  describe(`operator action = playbook step (${mode})`, () => {
    let database: Database;
    let api: StartedApi;
    let token: string;
    let ids: Map<string, number>;
    before(async () => {
      database = await freshDatabase(mode);
      ids = await seedWorld(database.db);
      token = (await createToken(database.db, { name: 'equivalence', role: 'admin' })).token;
      api = await startApi({ database, port: 0, authFailureLimit: { max: 1e9, timeWindowMs: 60_000 } });
    });
    after(async () => {
      await api.close();
      await database.close();
    });

    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${api.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    /** A random world around `edge`; returns nothing, writes the rows. */
    async function randomWorld(rnd: () => number, edge: string, now: Date) {
      const db = database.db;
      await db.execute(sql`delete from actions`);
      await db.execute(sql`delete from edge_loads`);
      await db.execute(sql`delete from slos`);
      await db.execute(sql`update edges set state = 'active'`);
      const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
      for (const e of EDGES) {
        const roll = rnd();
        // The changed edge always reports; others may be unknown (none) or stale (10 min old).
        if (e.name !== edge && roll < 0.15) continue;
        const stale = e.name !== edge && roll < 0.3;
        const rps = Math.round(e.capacityRps * (0.2 + 0.8 * rnd()));
        await db
          .insert(schema.edgeLoads)
          .values({ edgeId: ids.get(e.name) ?? 0, rps, reportedAt: stale ? minutesAgo(10) : minutesAgo(0.1) });
        if (e.name !== edge && rnd() < 0.1) {
          await db.execute(sql`update edges set state = 'maintenance' where name = ${e.name}`);
        }
      }
      // SLO thresholds: per edge (sometimes two, the lower wins) and sometimes a global one.
      let n = 0;
      for (const e of EDGES) {
        const count = rnd() < 0.3 ? (rnd() < 0.5 ? 2 : 1) : 0;
        for (let i = 0; i < count; i++) {
          const enter = 0.6 + 0.35 * rnd();
          await db.insert(schema.slos).values({
            name: `slo-${n++}`,
            edgeId: ids.get(e.name) ?? null,
            metric: 'utilisation',
            enterThreshold: enter,
            exitThreshold: enter - 0.1,
            window: '5m',
          });
        }
      }
      if (rnd() < 0.3) {
        await db.insert(schema.slos).values({
          name: 'global',
          metric: 'utilisation',
          enterThreshold: 0.8,
          exitThreshold: 0.6,
          window: '5m',
        });
      }
      const action = (kind: string, on: string, params: Record<string, unknown>, from: number, to?: number) =>
        db.insert(schema.actions).values({
          kind,
          edgeId: ids.get(on) ?? null,
          prefixId: null,
          params,
          reason: 'random world',
          actor: 'test',
          source: 'automation',
          createdAt: minutesAgo(from),
          ...(to !== undefined ? { revertedAt: minutesAgo(to) } : {}),
        });
      // Route-change history of the changed edge's prefix: withdrawn and restored k times.
      const flaps = Math.floor(rnd() * 4);
      for (let i = 0; i < flaps; i++) {
        await action('withdraw-unicast', edge, { prefix: UNICAST[edge] }, 50 - i * 10, 45 - i * 10);
      }
      // Other edges shed in other ways (blast radius, service answers, targets being shed).
      for (const e of EDGES) {
        if (e.name === edge) continue;
        const r = rnd();
        if (r < 0.15) await action('dns-shift', e.name, { percent: 10 + Math.round(40 * rnd()) }, 5);
        else if (r < 0.2) await action('withdraw-unicast', e.name, { prefix: UNICAST[e.name] }, 5);
      }
    }

    function randomStep(rnd: () => number, edge: string): Step {
      const r = rnd();
      const common = { verify: { within: '2m' }, dwell: '5m' };
      if (r < 0.4) return { kind: 'dns-shift', schedule: [5 + Math.round(60 * rnd())], ...common };
      if (r < 0.65) return { kind: 'withdraw-unicast', prefixes: [UNICAST[edge] ?? ''], ...common };
      if (r < 0.8) return { kind: 'communities', transit: 'transit-a', intents: ['prepend-2x'], ...common };
      return { kind: 'dsr-shed', fraction: Math.round(100 * (0.05 + 0.5 * rnd())) / 100, ...common };
    }

    /** The same change through the API, as an operator's dry run. */
    function operatorCall(step: Step, edge: string, params: Record<string, unknown>) {
      const reason = 'equivalence';
      if (step.kind === 'dns-shift')
        return post(`/v1/edges/${edge}/shift`, { reason, dryRun: true, params: { percent: params.percent } });
      if (step.kind === 'withdraw-unicast') {
        return post(`/v1/prefixes/${encodeURIComponent(String(params.prefix))}/withdraw`, { reason, dryRun: true });
      }
      if (step.kind === 'communities') return post(`/v1/edges/${edge}/communities`, { reason, dryRun: true, params });
      return post(`/v1/edges/${edge}/dsr`, { reason, dryRun: true, params: { fraction: params.fraction } });
    }

    it(`${SAMPLES} random worlds and changes get the same verdict and predicted loads`, async () => {
      const rnd = seededRandom(mode === 'postgres' ? 11 : 12);
      const verdicts = new Set<string>();
      for (let i = 0; i < SAMPLES; i++) {
        const edge = EDGES[Math.floor(rnd() * EDGES.length)]?.name ?? 'lhr';
        const now = new Date();
        await randomWorld(rnd, edge, now);
        const step = randomStep(rnd, edge);
        const [stage] = stagesOf([step], { verifyMs: 120_000, dwellMs: 300_000 });
        assert.ok(stage);
        const world = await loadWorld(database.db, now, { loadStaleMs: DEFAULT_LOAD_STALE_MS });
        const plan = planStage(world, 999_999, edge, stage, ENGINE_DEFAULTS);
        const params = plan.actions[0]?.params ?? { prefix: UNICAST[edge] };
        const op = await operatorCall(step, edge, params);
        const what = `sample ${i}: ${step.kind} on ${edge} (${mode})`;
        assert.equal(op.status, 200, `${what}: ${JSON.stringify(op.body)}`);
        assert.deepEqual(op.body.refusal, plan.refusals[0] ?? null, `${what}: the verdict`);
        assert.deepEqual(op.body.predictedLoads, plan.prediction.predictedLoads, `${what}: the predicted loads`);
        verdicts.add(plan.refusals[0]?.rule ?? 'allowed');
      }
      // The sample is only worth something if it reaches both outcomes.
      assert.ok(verdicts.has('allowed') && verdicts.size > 1, [...verdicts].join(', '));
    });

    it('a refusal has one shape and one code: the API problem, its dry run and the controller stage', async () => {
      const now = new Date();
      await randomWorld(seededRandom(3), 'lhr', now);
      // Every possible target near its threshold: the shift cannot go anywhere.
      for (const e of EDGES) {
        const rps = e.name === 'lhr' ? 28_000 : Math.round(e.capacityRps * 0.84);
        await database.db
          .insert(schema.edgeLoads)
          .values({ edgeId: ids.get(e.name) ?? 0, rps, reportedAt: now })
          .onConflictDoUpdate({ target: schema.edgeLoads.edgeId, set: { rps, reportedAt: now } });
      }
      await database.db.execute(sql`update edges set state = 'active'`);
      const step: Step = { kind: 'dns-shift', schedule: [50], verify: { within: '2m' }, dwell: '5m' };
      const [stage] = stagesOf([step], { verifyMs: 120_000, dwellMs: 300_000 });
      assert.ok(stage);
      const world = await loadWorld(database.db, now, { loadStaleMs: DEFAULT_LOAD_STALE_MS });
      const plan = planStage(world, 999_999, 'lhr', stage, ENGINE_DEFAULTS);
      const [first] = plan.refusals;
      assert.ok(first, 'the controller refuses');
      assert.deepEqual(Object.keys(first).sort(), ['details', 'reason', 'rule']);
      assert.ok((SAFETY_RULES as readonly string[]).includes(first.rule), first.rule);
      const refused = await post('/v1/edges/lhr/shift', { reason: 'shape', params: { percent: 50 } });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'SAFETY_REFUSED');
      const details = refused.body.details as Record<string, unknown>;
      assert.equal(details.rule, first.rule);
      assert.deepEqual(details.refusal, first, 'the problem carries the refusal the controller records');
      const dry = await post('/v1/edges/lhr/shift', { reason: 'shape', dryRun: true, params: { percent: 50 } });
      assert.deepEqual(dry.body.refusal, first);
    });
  });
}
