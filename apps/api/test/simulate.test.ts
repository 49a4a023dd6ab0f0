import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CatchmentConfig } from '@catchment/core';
import type { ScenarioModel } from '@catchment/sim';
import { heldRunner } from '@catchment/testkit/simulate';
import { buildWorld, startTestApi, type TestApi } from './helpers.ts';

const SMALL = { duration: '3m', clients: [{ country: 'GB', rps: 1000, blocks: 10 }], strategies: ['none'] };

describe('POST /v1/simulate without a simulator', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi('pglite');
  });
  after(() => t.close());

  it('answers a valid scenario 503 SIMULATE_UNAVAILABLE, and only to operators', async () => {
    const r = await t.call('POST', '/v1/simulate', { body: SMALL, token: t.tokens.operator });
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'SIMULATE_UNAVAILABLE');
    assert.match(r.body.detail, /without the simulator/);
    const viewer = await t.call('POST', '/v1/simulate', { body: SMALL, token: t.tokens.viewer });
    assert.equal(viewer.status, 403);
    // The scenario is checked first: an invalid one is told so here too.
    const bad = await t.call('POST', '/v1/simulate', { body: { ...SMALL, duration: 'long' } });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, 'SCENARIO_INVALID');
  });
});

describe('POST /v1/simulate with a runner', () => {
  let t: TestApi;
  const held = heldRunner<ScenarioModel, CatchmentConfig>();
  before(async () => {
    t = await startTestApi('pglite', {
      simulate: held.runner as never,
      simulateLimits: { durationS: 3600, totalS: 5400, blocks: 5000 },
    });
    await buildWorld(t);
  });
  after(async () => {
    held.release();
    await t.close();
  });

  it('runs one simulation at a time: a second is told to retry, then runs once the first is done', async () => {
    const first = t.call('POST', '/v1/simulate', { body: SMALL, token: t.tokens.operator });
    await held.started(1);
    const busy = await t.call('POST', '/v1/simulate', { body: SMALL, token: t.tokens.operator });
    assert.equal(busy.status, 429);
    assert.equal(busy.body.code, 'SIMULATION_BUSY');
    assert.equal(busy.headers.get('retry-after'), '30');
    assert.equal(held.calls.length, 1, 'the refused request never reached the runner');
    held.release();
    const done = await first;
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.scenario.durationS, 180);
    assert.deepEqual(done.body.strategies, []);
    const again = await t.call('POST', '/v1/simulate', { body: SMALL, token: t.tokens.operator });
    assert.equal(again.status, 200, 'the guard is free again');
    // The document ran on the installation's configuration, not a file.
    const { config } = held.calls[0]!;
    assert.deepEqual(config?.edges?.map((e) => e.name).sort(), ['fra', 'iad', 'lhr', 'sin']);
    assert.equal(held.calls[0]!.model.configPath, '(the current configuration)');
  });

  it('lists every error of an invalid scenario under SCENARIO_INVALID, a config path among them', async () => {
    const calls = held.calls.length;
    const r = await t.call('POST', '/v1/simulate', {
      body: { config: '/etc/passwd', duration: '3 minutes', clients: [{ country: 'gb', rps: -1 }], bogus: 1 },
    });
    assert.equal(r.status, 422);
    assert.equal(r.body.code, 'SCENARIO_INVALID');
    assert.deepEqual((r.body.errors as { path: string }[]).map((e) => e.path).sort(), [
      '/bogus',
      '/clients/0/country',
      '/clients/0/rps',
      '/config',
      '/duration',
    ]);
    // Rules past the schema too: shares that do not add up, an event after the end.
    const rules = await t.call('POST', '/v1/simulate', {
      body: {
        ...SMALL,
        resolvers: { caches: { honour: 0.5, clamp: 0.1 } },
        events: [{ kind: 'flash-crowd', at: '10m', factor: 2, countries: ['GB'] }],
      },
    });
    assert.equal(rules.status, 422);
    assert.deepEqual((rules.body.errors as { path: string }[]).map((e) => e.path).sort(), [
      '/events/0/at',
      '/resolvers/caches',
    ]);
    assert.equal(held.calls.length, calls, 'nothing invalid reached the runner');
  });

  it('refuses a scenario over the limits with 413 SIMULATION_TOO_LARGE, every reason in one line', async () => {
    const calls = held.calls.length;
    const r = await t.call('POST', '/v1/simulate', {
      body: { duration: '2h', clients: [{ country: 'GB', rps: 1000, blocks: 6000 }], strategies: ['none', 'full'] },
    });
    assert.equal(r.status, 413);
    assert.equal(r.body.code, 'SIMULATION_TOO_LARGE');
    assert.doesNotMatch(r.body.detail, /\n/);
    assert.match(r.body.detail, /duration 7200 s > 3600 s/);
    assert.match(r.body.detail, /6000 client blocks > 5000/);
    assert.match(r.body.detail, /2 strategies × 7200 s = 14400 s > 5400 s/);
    assert.doesNotMatch(r.body.detail, /ISP resolvers/, 'only the limits passed are named');
    const total = await t.call('POST', '/v1/simulate', {
      body: { duration: '1h', clients: [{ country: 'GB', rps: 1000, blocks: 5000 }], strategies: ['none', 'full'] },
    });
    assert.equal(total.status, 413);
    assert.match(total.body.detail, /: 2 strategies × 3600 s = 7200 s > 5400 s \(run/);
    const fine = await t.call('POST', '/v1/simulate', {
      body: { duration: '1h', clients: [{ country: 'GB', rps: 1000, blocks: 5000 }], strategies: ['none'] },
    });
    assert.equal(fine.status, 200, `at the limits it runs: ${fine.text}`);
    assert.equal(held.calls.length, calls + 1);
  });

  it('fromNow: names the unknown playbook and edge, and needs a present load', async () => {
    const r = await t.call('POST', '/v1/simulate', { body: { fromNow: { playbook: 'nope', edge: 'nowhere' } } });
    assert.equal(r.status, 422);
    assert.equal(r.body.code, 'SCENARIO_INVALID');
    assert.deepEqual((r.body.errors as { path: string }[]).map((e) => e.path).sort(), [
      '/fromNow',
      '/fromNow/edge',
      '/fromNow/playbook',
    ]);
    const shape = await t.call('POST', '/v1/simulate', { body: { fromNow: { edge: 3, when: 'now' }, extra: true } });
    assert.equal(shape.status, 422);
    assert.deepEqual((shape.body.errors as { path: string }[]).map((e) => e.path).sort(), [
      '/extra',
      '/fromNow/edge',
      '/fromNow/playbook',
      '/fromNow/when',
    ]);
  });

  it('is in the OpenAPI document with its operationId, for operators', async () => {
    const doc = await t.call('GET', '/docs/json', { token: t.tokens.viewer });
    const op = doc.body.paths['/v1/simulate']?.post;
    assert.equal(op?.operationId, 'simulate');
    assert.deepEqual(Object.keys(op.responses).sort(), ['200', '429', '4XX', '5XX']);
    assert.deepEqual(t.api.app.catchment.routes.find((r) => r.url === '/v1/simulate')?.access, ['operator', 'admin']);
  });
});
