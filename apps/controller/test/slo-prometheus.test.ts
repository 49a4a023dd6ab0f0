import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { promQuery } from '@catchment/core';
import { type Database, schema } from '@catchment/db';
import { freshDatabase, until } from '@catchment/testkit';
import { startExporter, startPrometheus } from '@catchment/testkit/prometheus';
import { activeActions, addPlaybook, NORMAL_LOADS, reportLoads, seedWorld } from '@catchment/testkit/world';
import { eq } from 'drizzle-orm';
import { Controller } from '../src/index.ts';

/**
 * SLO evaluation against a real Prometheus scraping a load exporter the test serves:
 * utilisation = load / capacity crosses the enter threshold, the SLO signal fires, the
 * playbook's run starts; the load drops under the exit threshold, the signal resolves,
 * the run is mitigated. Plus an error-rate SLO with the multi-window burn rate.
 */
describe('SLO evaluation with a real Prometheus', () => {
  let database: Database;
  let ids: Map<string, number>;
  const state = { lhrRps: 28_000, requests: 0, errors: 0, errorShare: 0.2 };
  let exporter: Awaited<ReturnType<typeof startExporter>>;
  let prometheus: Awaited<ReturnType<typeof startPrometheus>>;

  before(async () => {
    exporter = await startExporter(() => {
      // Each scrape sees 100 more requests, errorShare of them failed.
      state.requests += 100;
      state.errors += Math.round(100 * state.errorShare);
      return [
        '# TYPE catchment_edge_load_rps gauge',
        `catchment_edge_load_rps{edge="lhr"} ${state.lhrRps}`,
        `catchment_edge_load_rps{edge="fra"} ${NORMAL_LOADS.fra}`,
        '# TYPE catchment_edge_requests_total counter',
        `catchment_edge_requests_total{edge="gru"} ${state.requests}`,
        '# TYPE catchment_edge_errors_total counter',
        `catchment_edge_errors_total{edge="gru"} ${state.errors}`,
        '',
      ].join('\n');
    });
    prometheus = await startPrometheus([`127.0.0.1:${exporter.port}`]);
    database = await freshDatabase('pglite');
    ids = await seedWorld(database.db);
  });
  after(async () => {
    await prometheus?.stop();
    await exporter?.close();
    await database?.close();
  });

  it('utilisation from Prometheus starts a run and its recovery mitigates it', async () => {
    const db = database.db;
    await addPlaybook(db, {
      name: 'lhr-utilisation',
      trigger: { slo: 'lhr-utilisation' },
      steps: [{ kind: 'dns-shift', schedule: [10, 25], verify: { within: '2m' }, dwell: '5m' }],
    });
    const controller = new Controller({ database, prometheusUrl: prometheus.url, schedule: false, http: false });
    await controller.start();
    try {
      await until(
        'Prometheus reading lhr at 28 000 rps',
        async () => (await promQuery(prometheus.url, 'catchment_edge_load_rps{edge="lhr"}'))[0]?.value === 28_000,
        20_000,
      );
      const results = await controller.slo.evaluate();
      const lhr = results.find((r) => r.slo === 'lhr-utilisation' && r.edge === 'lhr');
      assert.ok(lhr?.value !== null && Math.abs((lhr?.value ?? 0) - 28_000 / 30_000) < 1e-9, `value ${lhr?.value}`);
      assert.equal(lhr?.status, 'firing');
      // The demo's SLO names one edge: only that edge is evaluated.
      assert.deepEqual(
        results.map((r) => `${r.slo}/${r.edge}`),
        ['lhr-utilisation/lhr'],
      );
      const signal = (
        await db.select().from(schema.signals).where(eq(schema.signals.fingerprint, 'lhr-utilisation/lhr'))
      )[0];
      assert.equal(signal?.status, 'firing');

      await reportLoads(db, ids, NORMAL_LOADS, new Date());
      const tick = await controller.tick();
      assert.equal(tick.started.length, 1);
      assert.deepEqual(
        (await activeActions(db)).map((a) => [a.kind, (a.params as { percent: number }).percent]),
        [['dns-shift', 10]],
      );

      state.lhrRps = 15_000; // 50 %: under the exit threshold (70 %)
      await until(
        'Prometheus reading lhr at 15 000 rps',
        async () => (await promQuery(prometheus.url, 'catchment_edge_load_rps{edge="lhr"}'))[0]?.value === 15_000,
        20_000,
      );
      const after = await controller.slo.evaluate();
      assert.equal(after.find((r) => r.slo === 'lhr-utilisation' && r.edge === 'lhr')?.status, 'resolved');
      await controller.tick();
      const run = (await db.select().from(schema.playbookRuns))[0];
      assert.equal(run?.state, 'mitigated');
    } finally {
      await controller.stop();
    }
  });

  it('error rate with the multi-window burn rate', async () => {
    const db = database.db;
    await db.insert(schema.slos).values({
      name: 'gru-errors',
      edgeId: ids.get('gru') ?? null,
      metric: 'error-rate',
      enterThreshold: 0.05,
      exitThreshold: 0.01,
      window: '1m',
    });
    const controller = new Controller({
      database,
      prometheusUrl: prometheus.url,
      schedule: false,
      http: false,
      burnRate: { shortWindowDivisor: 12 },
    });
    await controller.start();
    try {
      // rate() needs a few scrapes in the short (5 s) window.
      await until(
        'the burn-rate value of gru-errors',
        async () => {
          const r = await controller.slo.evaluate();
          return r.some((x) => x.slo === 'gru-errors' && x.value !== null && Math.abs(x.value - 0.2) < 0.02);
        },
        30_000,
      );
      const signal = (
        await db.select().from(schema.signals).where(eq(schema.signals.fingerprint, 'gru-errors/gru'))
      )[0];
      assert.equal(signal?.status, 'firing');
      // Errors stop: the short window clears first, and with it the burn-rate value.
      state.errorShare = 0;
      await until(
        'gru-errors resolved',
        async () => {
          const r = await controller.slo.evaluate();
          return r.some((x) => x.slo === 'gru-errors' && x.status === 'resolved');
        },
        30_000,
      );
      const metrics = await controller.metrics.registry.getSingleMetricAsString(
        'catchment_controller_slo_evaluations_total',
      );
      assert.match(metrics, /slo="gru-errors",result="ok"/);
    } finally {
      await controller.stop();
    }
  });
});
