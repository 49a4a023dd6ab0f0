import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { CatchmentConfig } from '@catchment/core';
import type { ScenarioModel } from '@catchment/sim';
import { heldRunner } from '@catchment/testkit/simulate';
import { TEST_CHANNEL, WORKER_MODES } from './fixtures/simulation-worker.ts';
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

/** A scenario the fixture worker (fixtures/simulation-worker.ts) runs as `mode` says. */
const inMode = (mode: keyof typeof WORKER_MODES | 'result', strategies = ['none']) => ({
  duration: mode === 'result' ? '3m' : `${WORKER_MODES[mode]}s`,
  clients: [{ country: 'GB', rps: 1000, blocks: 10 }],
  strategies,
});

const FIXTURE = new URL('./fixtures/simulation-worker.ts', import.meta.url);

/** Resolves on the fixture worker's next 'started' (a spinning run holds its core from then on). */
function nextStart(): Promise<void> {
  const channel = new BroadcastChannel(TEST_CHANNEL);
  return new Promise((resolve) => {
    channel.onmessage = () => {
      channel.close();
      resolve();
    };
  });
}

/** The API's count of simulations that ended so. */
async function outcomes(t: TestApi): Promise<Record<string, number>> {
  const m = await t.api.app.catchment.metrics.simulations.get();
  return Object.fromEntries(m.values.map((v) => [String(v.labels.outcome), v.value]));
}

/** Waits (no deadline but the test's) until the API has counted one more `outcome`. */
async function counted(t: TestApi, outcome: string, n: number): Promise<void> {
  while (((await outcomes(t))[outcome] ?? 0) < n) await new Promise((r) => setTimeout(r, 10));
}

/** A POST /v1/simulate whose client can go away: node:http, so `destroy()` closes the connection. */
function rawSimulate(t: TestApi, body: unknown): { destroy(): void; ended: Promise<string> } {
  const req = request(`${t.url}/v1/simulate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.tokens.operator}`, 'content-type': 'application/json' },
    agent: false,
  });
  const ended = new Promise<string>((resolve) => {
    req.on('error', (err) => resolve(`error: ${err.message}`));
    req.on('response', (res) => resolve(`status ${res.statusCode}`));
  });
  req.end(JSON.stringify(body));
  return { destroy: () => req.destroy(), ended };
}

describe('POST /v1/simulate in a worker thread', () => {
  let t: TestApi;
  const hold = new Int32Array(new SharedArrayBuffer(4));
  const release = () => Atomics.store(hold, 0, 1);
  before(async () => {
    t = await startTestApi('pglite', {
      simulate: { entry: FIXTURE, setup: { hold } },
      simulateLimits: { memoryMb: 64, wallClockS: 600 },
    });
    await buildWorld(t);
  });
  after(async () => {
    release();
    await t.close();
  });

  it('runs the worker with the installation’s configuration and answers its result', async () => {
    const r = await t.call('POST', '/v1/simulate', { body: inMode('result', ['none', 'scripted']) });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.scenario.service, 'worker:4 edges');
    assert.equal(r.body.scenario.configPath, '(the current configuration)');
    assert.equal((await outcomes(t)).completed, 1);
  });

  it('keeps answering health checks and other requests while a run holds a core', { timeout: 60_000 }, async () => {
    Atomics.store(hold, 0, 0);
    const started = nextStart();
    let simulated = false;
    const sim = t.call('POST', '/v1/simulate', { body: inMode('spin') }).then((r) => {
      simulated = true;
      return r;
    });
    await started;
    // The run never yields: in the API's thread these would wait for its end, which is below.
    const health = await t.call('GET', '/healthz');
    const snapshot = await t.call('GET', '/v1/snapshot', { token: t.tokens.viewer });
    const busy = await t.call('POST', '/v1/simulate', { body: inMode('result') });
    assert.equal(health.status, 200);
    assert.equal(snapshot.status, 200);
    assert.equal(busy.status, 429);
    assert.match(busy.body.detail, /\(0 of 1 strategies done\)/);
    assert.equal(simulated, false, 'answered while the simulation ran');
    const running = await t.call('GET', '/metrics', { token: t.tokens.viewer });
    assert.match(running.text, /^catchment_api_simulation_running 1$/m);
    release();
    assert.equal((await sim).status, 200);
  });

  it('stops the worker when the client goes away: the slot is free for the next run, the cancellation counted', {
    timeout: 60_000,
  }, async () => {
    Atomics.store(hold, 0, 0);
    const before = await outcomes(t);
    const started = nextStart();
    const gone = rawSimulate(t, inMode('spin'));
    await started;
    const busy = await t.call('POST', '/v1/simulate', { body: inMode('result') });
    assert.equal(busy.status, 429, 'one at a time while it runs');
    gone.destroy();
    assert.match(await gone.ended, /^error: /);
    // The hold is never released: only terminating the worker ends that run.
    await counted(t, 'cancelled', (before.cancelled ?? 0) + 1);
    const next = await t.call('POST', '/v1/simulate', { body: inMode('result') });
    assert.equal(next.status, 200, next.text);
    const after = await outcomes(t);
    assert.equal(after.cancelled, (before.cancelled ?? 0) + 1);
    assert.equal(after.completed, (before.completed ?? 0) + 1);
    const metrics = await t.call('GET', '/metrics', { token: t.tokens.viewer });
    assert.match(metrics.text, /^catchment_api_simulation_running 0$/m);
    assert.match(metrics.text, /^catchment_api_simulations_total\{outcome="cancelled"\} [1-9]/m);
  });

  it('a worker past its memory limit answers 413 SIMULATION_OUT_OF_MEMORY; the API keeps serving', async () => {
    const before = await outcomes(t);
    const r = await t.call('POST', '/v1/simulate', { body: inMode('oom') });
    assert.equal(r.status, 413, r.text);
    assert.equal(r.body.code, 'SIMULATION_OUT_OF_MEMORY');
    assert.match(r.body.detail, /more than the 64 MB of heap this API allows a simulation/);
    assert.equal((await t.call('GET', '/healthz')).status, 200);
    assert.equal((await t.call('POST', '/v1/simulate', { body: inMode('result') })).status, 200, 'the slot is free');
    assert.equal((await outcomes(t)).failed, (before.failed ?? 0) + 1);
  });

  it('a worker that throws or exits answers 500 SIMULATION_FAILED, naming what happened', async () => {
    const thrown = await t.call('POST', '/v1/simulate', { body: inMode('throws') });
    assert.equal(thrown.status, 500, thrown.text);
    assert.equal(thrown.body.code, 'SIMULATION_FAILED');
    assert.match(thrown.body.detail, /^the simulation failed: the fixture broke$/);
    const exited = await t.call('POST', '/v1/simulate', { body: inMode('exits') });
    assert.equal(exited.status, 500, exited.text);
    assert.equal(exited.body.code, 'SIMULATION_FAILED');
    assert.match(exited.body.detail, /exited \(code 7\) without a result/);
    assert.equal((await t.call('POST', '/v1/simulate', { body: inMode('result') })).status, 200);
  });
});

describe('POST /v1/simulate past its wall-clock limit', () => {
  let t: TestApi;
  const hold = new Int32Array(new SharedArrayBuffer(4));
  before(async () => {
    t = await startTestApi('pglite', {
      simulate: { entry: FIXTURE, setup: { hold } },
      simulateLimits: { wallClockS: 0.5 },
    });
    await buildWorld(t);
  });
  after(async () => {
    Atomics.store(hold, 0, 1);
    await t.close();
  });

  it('stops the worker and answers 504 SIMULATION_TIMEOUT, counted as a timeout', { timeout: 60_000 }, async () => {
    // The run spins until released, which this test never does.
    const r = await t.call('POST', '/v1/simulate', { body: inMode('spin') });
    assert.equal(r.status, 504, r.text);
    assert.equal(r.body.code, 'SIMULATION_TIMEOUT');
    assert.match(r.body.detail, /ran past the 0.5 s this API allows it/);
    assert.equal((await outcomes(t)).timeout, 1);
    assert.equal((await t.call('POST', '/v1/simulate', { body: inMode('result') })).status, 200, 'the slot is free');
  });
});
