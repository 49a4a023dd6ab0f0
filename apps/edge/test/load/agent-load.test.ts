import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createToken, startApi } from '@catchment/api';
import { readWorld } from '@catchment/db';
import { buildWorld, startApiHarness } from '@catchment/testkit/api-harness';
import { BgpLab } from '@catchment/testkit/bgp-lab';
import { labWorld } from '@catchment/testkit/lab-world';
import { SnapshotApi } from '@catchment/testkit/snapshot-api';
import { type EdgeAgent, PrometheusLoadSource, startEdgeAgent } from '../../src/index.ts';
import { nginxText, TestExporter } from './exporter.ts';

type Report = { edge?: string; healthy?: boolean; load?: { rps: number; source: string; sampledAt: string } };

/**
 * The edge agent with a Prometheus load source on a real local exporter, real BIRD
 * speakers peered with a transit (netns lab), reporting to the snapshot API stand-in (every
 * report body kept) and then to the real API over PostgreSQL, read back by the controller.
 * The exporter's clock advances one second per scrape, so every rate is exact.
 */
test('the edge agent reports its load; a failing source sends none and routing is unaffected', async (t) => {
  const lab = await BgpLab.create({ edges: ['fra'] });
  t.after(() => lab.destroy());
  const snapshots = await SnapshotApi.start();
  t.after(() => snapshots.close());
  snapshots.publish(labWorld(['fra'], ['fra']));

  let exporter = await TestExporter.start();
  t.after(() => exporter.close());
  // requests = slope * (scrapes - since): a restart of the exporter's process sets `since`.
  let slope = 250;
  let since = 0;
  exporter.body = () => nginxText({ www: slope * (exporter.scrapes - since), api: 7 });

  const agents: EdgeAgent[] = [];
  t.after(async () => {
    for (const a of agents) await a.stop();
  });
  const start = async (apiUrl: string, token: string, ex: TestExporter) => {
    const agent = await startEdgeAgent({
      ...lab.agentParts('fra', snapshots),
      apiUrl,
      token,
      reportIntervalMs: 100,
      http: { host: '127.0.0.1', port: 0 },
      load: {
        source: new PrometheusLoadSource({
          url: ex.url,
          selector: 'nginx_http_requests_total{server="www"}',
          now: () => ex.scrapes * 1000,
        }),
        intervalMs: 100,
      },
    });
    agents.push(agent);
    return agent;
  };

  const reports = snapshots.reports as Report[];
  const waitReports = async (pred: (r: Report) => boolean, what: string, from = 0) => {
    await lab.waitFor(() => reports.slice(from).some(pred), 15_000, what);
    return reports.slice(from).findIndex(pred) + from;
  };
  const full = [
    'fra4 198.18.0.0/20',
    'fra4 198.18.1.0/24 64500:100',
    'fra6 2001:db8:100::/40',
    'fra6 2001:db8:101::/48',
  ];

  const agent = await start(snapshots.url, snapshots.token, exporter);
  await lab.waitFor(
    async () => JSON.stringify(await lab.transitView()) === JSON.stringify(full),
    20_000,
    'the routes at the transit',
  );

  await t.test('reports say healthy once the BGP sessions are up, without waiting for a reconcile', async () => {
    // The sessions came up after the start's reconcile; the next scheduled one is 30 s away.
    await waitReports((r) => r.healthy === true, 'a healthy report');
  });

  await t.test('each report carries the rate of the selected series, for this edge', async () => {
    const i = await waitReports((r) => r.load !== undefined, 'a report with load');
    const r = reports[i] as Report;
    assert.equal(r.edge, 'fra', 'the API files the load under the edge, not the consumer name');
    assert.equal(r.load?.rps, 250);
    assert.equal(r.load?.source, 'prometheus');
    assert.ok(Date.parse(r.load?.sampledAt ?? '') > Date.now() - 60_000, 'sampledAt is a recent time');
    assert.ok(
      reports.every((x) => x.load === undefined || x.load.rps === 250),
      'the first sample (a counter alone) gives no load, never a made-up one',
    );
    const metrics = await (await fetch(`${agent.httpUrl}/metrics`)).text();
    assert.match(metrics, /catchment_edge_load_rps\{source="prometheus",edge="fra"\} 250/);
    const status = (await (await fetch(`${agent.httpUrl}/status`)).json()) as { load: { rps: number } | null };
    assert.equal(status.load?.rps, 250);
  });

  await t.test('a counter reset (the exporter restarted) gives the new rate, never a negative one', async () => {
    const from = reports.length;
    since = exporter.scrapes;
    slope = 400;
    const i = await waitReports((r) => r.load?.rps === 400, 'the rate after the reset', from);
    assert.ok(
      reports.slice(from, i).every((r) => r.load === undefined || r.load.rps === 250),
      'nothing between the old and the new rate',
    );
  });

  await t.test('a missing metric: no load in the reports, counted, routes stay', async () => {
    exporter.body = () => '# TYPE other_total counter\nother_total 1\n';
    await lab.waitFor(() => /no series matches/.test(agent.status().loadError ?? ''), 15_000, 'the read error');
    // A report built before the failure may still be on its way: count from the next one.
    const sent = reports.length;
    await waitReports(() => reports.length > sent, 'one more report', sent);
    const from = reports.length;
    await waitReports(() => reports.length >= from + 3, 'three more reports', from);
    assert.deepEqual(
      reports.slice(from).map((r) => r.load),
      reports.slice(from).map(() => undefined),
    );
    const metrics = await (await fetch(`${agent.httpUrl}/metrics`)).text();
    assert.doesNotMatch(metrics, /catchment_edge_load_rps\{/, 'no stale load on /metrics');
    assert.match(metrics, /catchment_edge_load_read_errors_total\{source="prometheus",edge="fra"\} [1-9]/);
    assert.deepEqual(await lab.transitView(), full);
    // The metric comes back: a first sample again, then the rate.
    exporter.body = () => nginxText({ www: slope * (exporter.scrapes - since) });
    const back = await waitReports((r) => r.load?.rps === 400, 'the load again', from);
    assert.ok(back > from);
  });

  await t.test('an unreachable exporter: no load, the agent still reconciles and reports', async () => {
    await exporter.close();
    await lab.waitFor(() => agent.status().loadError !== null, 15_000, 'the read error');
    // A report built before the failure may still be on its way: count from the next one.
    const sent = reports.length;
    await waitReports(() => reports.length > sent, 'one more report', sent);
    const from = reports.length;
    await waitReports(() => reports.length >= from + 3, 'three more reports', from);
    assert.deepEqual(
      reports.slice(from).map((r) => r.load),
      reports.slice(from).map(() => undefined),
    );
    const r = await agent.reconcile('test');
    assert.equal(r.applied, true);
    assert.equal(r.changed, false, 'losing the load source changes no route');
    assert.deepEqual(await lab.transitView(), full);
  });

  await t.test('with the real API: the report updates edge_loads and the controller sees the load', async () => {
    await agents.shift()?.stop();
    const api = await startApiHarness('postgres', { startApi, createToken });
    t.after(() => api.close());
    await buildWorld(api);
    exporter = await TestExporter.start();
    slope = 30_000;
    since = 0;
    exporter.body = () => nginxText({ www: slope * exporter.scrapes });
    await start(api.url, api.tokens.agent, exporter);
    const world = () => readWorld(api.database.db, new Date(), { loadStaleMs: 60_000 });
    await lab.waitFor(
      async () => (await world()).edges.find((x) => x.name === 'fra')?.loadRps === 30_000,
      15_000,
      'the controller to see fra at 30 000 rps',
    );
    // The consumer row holds the latest report: on a busy machine one load read may time out,
    // so wait for a report that carried the load rather than taking whichever came last.
    let fra: { load?: { rps?: number; source?: string } } | undefined;
    await lab.waitFor(
      async () => {
        const consumers = await api.call('GET', '/v1/consumers?kind=edge');
        fra = consumers.body.items.find((c: { name: string }) => c.name === 'edge:fra');
        return fra?.load?.rps === 30_000;
      },
      15_000,
      'the consumer edge:fra to show its load',
    );
    assert.equal(fra?.load?.rps, 30_000);
    assert.equal(fra?.load?.source, 'prometheus');
    // The edge's other numbers are untouched: fra's capacity is 100 000 rps, so 30 % utilised.
    const w = await world();
    assert.equal(w.edges.find((x) => x.name === 'fra')?.capacityRps, 100_000);
    assert.equal(w.edges.find((x) => x.name === 'iad')?.loadRps, null, 'no report, no load');
    assert.deepEqual(await lab.transitView(), full);
  });
});
