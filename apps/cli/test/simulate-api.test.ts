import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createToken, type StartedApi, startApi } from '@catchment/api';
import { loadConfigFile } from '@catchment/core';
import { importConfig, publishSnapshot } from '@catchment/db';
import { runCli, TEST_KEK, tempDir } from '@catchment/testkit';
import { reportAgents, startApiHarness, type TestApi } from '@catchment/testkit/api-harness';
import { parse } from 'yaml';
import { simulationWorker } from '../src/simulate/in-worker.ts';

const run = promisify(execFile);
const DEMO = new URL('../../../config/demo.yaml', import.meta.url).pathname;

/** A flash crowd at lhr long enough for the demo playbook's alert and first DNS shift. */
const SMALL = `duration: 4m
clients:
  - { country: GB, rps: 20000, blocks: 20 }
  - { country: DE, rps: 30000, blocks: 20 }
events: [{ kind: flash-crowd, at: 30s, factor: 2, countries: [GB] }]
strategies: [none, full]
`;

describe('POST /v1/simulate with the CLI’s runner (the real controller)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let t: TestApi;
  let env: Record<string, string>;
  before(async () => {
    dir = await tempDir('sim-api-');
    // What `catchment start` hands its API: the CLI's runner, in a worker thread per simulation.
    t = await startApiHarness('pglite', { startApi, createToken }, { simulate: simulationWorker(), explain: null });
    await importConfig(t.database.db, await loadConfigFile(DEMO), { actor: 'test', reason: 'seed' });
    await publishSnapshot(t.database.db, { actor: 'test', kek: TEST_KEK });
    env = { CATCHMENT_API_URL: t.url, CATCHMENT_API_TOKEN: t.tokens.operator, CATCHMENT_LOG_LEVEL: 'warn' };
  });
  after(async () => {
    await t.close();
    await dir.remove();
  });

  it('answers what `catchment simulate --json` prints for the same scenario on the same configuration', async () => {
    const file = join(dir.path, 'small.yaml');
    await writeFile(file, SMALL);
    const local = await runCli(['simulate', file, '--json'], env);
    assert.equal(local.code, 0, local.stderr);
    const want = JSON.parse(local.stdout);
    const r = await t.call('POST', '/v1/simulate', { body: parse(SMALL), token: t.tokens.operator });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.runs, want.runs);
    assert.deepEqual(r.body.strategies, want.strategies);
    const { configPath: _a, ...scenario } = r.body.scenario;
    const { configPath: _b, ...wanted } = want.scenario;
    assert.deepEqual(scenario, wanted);
    assert.equal(r.body.scenario.configPath, '(the current configuration)');
    // Not a trivial equality: the controller acted in the full run.
    const full = r.body.runs.find((x: { strategy: string }) => x.strategy === 'full');
    assert.ok(
      full.steps.some((s: { text: string }) => /^lhr: dns-shift \d+%$/.test(s.text)),
      JSON.stringify(full.steps),
    );
  });

  it('--from-now runs the playbook on the present: lhr overloaded, a drain in force', async () => {
    const drain = await t.call('POST', '/v1/edges/syd/drain', { body: { reason: 'maintenance' } });
    assert.equal(drain.status, 201, drain.text);
    await reportAgents(t, { lhr: 29000, fra: 50000, iad: 60000, sin: 40000, gru: 8000, syd: 8000 });

    const out = await runCli(
      ['simulate', '--from-now', '--playbook', 'shed-overloaded-edge', '--edge', 'lhr', '--duration', '8m'],
      env,
    );
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^playbook shed-overloaded-edge on lhr, from the present at \d{4}-\d\d-\d\dT/);
    assert.match(out.stdout, /\| none \| \d+ \|/);
    // The playbook's steps on lhr, and nothing for no action.
    const full = out.stdout.split('\n').find((l) => l.startsWith('full: '));
    assert.ok(full, out.stdout);
    assert.match(full, /^full: \d+ s lhr: dns-shift 10%/, 'the first step of shed-overloaded-edge, at once');
    assert.doesNotMatch(out.stdout, /\nnone: /);

    const json = await t.call('POST', '/v1/simulate?series=true', {
      body: { fromNow: { playbook: 'shed-overloaded-edge', edge: 'lhr', duration: '3m' } },
      token: t.tokens.operator,
    });
    assert.equal(json.status, 200, json.text);
    assert.deepEqual(json.body.fromNow.playbook, 'shed-overloaded-edge');
    const none = json.body.runs.find((x: { strategy: string }) => x.strategy === 'none');
    const first = (name: string) => none.edges.find((e: { name: string }) => e.name === name).load[0] as number;
    // The present's loads are where the simulation starts; the drain holds: syd's clients are at sin.
    assert.ok(Math.abs(first('lhr') - 29000) < 29, `lhr starts at ${first('lhr')}`);
    assert.ok(Math.abs(first('fra') - 50000) < 50, `fra starts at ${first('fra')}`);
    assert.equal(first('syd'), 0);
    assert.ok(Math.abs(first('sin') - 48000) < 48, `sin starts at ${first('sin')}`);
    const lhr = (run: { edges: { name: string; overThresholdSeconds: number }[] }) =>
      run.edges.find((e) => e.name === 'lhr')!.overThresholdSeconds;
    const shed = json.body.runs.find((x: { strategy: string }) => x.strategy === 'full');
    assert.ok(lhr(shed) < lhr(none), `the playbook relieves lhr sooner: ${lhr(shed)} < ${lhr(none)}`);
  });

  it('the API keeps answering while it simulates (the run is in a worker thread)', { timeout: 300_000 }, async () => {
    const metrics = (t.api as StartedApi).app.catchment.metrics;
    const sim = t.call('POST', '/v1/simulate', {
      body: { ...parse(SMALL), duration: '10m', strategies: ['none', 'full'] },
      token: t.tokens.operator,
    });
    let simulatedAt = 0;
    void sim.then(() => {
      simulatedAt = performance.now();
    });
    // Past the first strategy: the controller's run (the long part) is under way.
    while ((await metrics.simulationStrategiesDone.get()).values[0]?.value !== 1) await sleep(20);
    // Another process asks, as a DNS server or an edge agent would, and this one reads a snapshot.
    const { stdout } = await run(process.execPath, [
      '-e',
      `fetch(${JSON.stringify(`${t.url}/healthz`)}).then((r) => process.stdout.write(String(r.status)))`,
    ]);
    const healthAt = performance.now();
    const snapshot = await t.call('GET', '/v1/snapshot', { token: t.tokens.operator });
    const snapshotAt = performance.now();
    assert.equal(stdout, '200');
    assert.equal(snapshot.status, 200);
    assert.equal(simulatedAt, 0, 'both answered while the simulation ran');
    assert.equal((await sim).status, 200);
    assert.ok(healthAt < simulatedAt && snapshotAt < simulatedAt);
  });

  it('a client that goes away stops its simulation: the next one is accepted at once', {
    timeout: 300_000,
  }, async () => {
    const metrics = (t.api as StartedApi).app.catchment.metrics;
    const cancelled = async () =>
      (await metrics.simulations.get()).values.find((v) => v.labels.outcome === 'cancelled')?.value ?? 0;
    const before = await cancelled();
    // An hour of the full playbook: minutes of work, which nobody waits for.
    const req = request(`${t.url}/v1/simulate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens.operator}`, 'content-type': 'application/json' },
      agent: false,
    });
    const ended = new Promise<string>((resolve) => {
      req.on('error', (err) => resolve(err.message));
      req.on('response', (res) => resolve(`status ${res.statusCode}`));
    });
    req.end(JSON.stringify({ ...parse(SMALL), duration: '1h', strategies: ['full'] }));
    while ((await metrics.simulationRunning.get()).values[0]?.value !== 1) await sleep(20);
    const small = { duration: '1m', clients: [{ country: 'GB', rps: 1000, blocks: 5 }], strategies: ['none'] };
    const busy = await t.call('POST', '/v1/simulate', { body: small, token: t.tokens.operator });
    assert.equal(busy.status, 429);
    assert.equal(busy.body.code, 'SIMULATION_BUSY');
    req.destroy();
    assert.doesNotMatch(await ended, /^status/);
    while ((await cancelled()) === before) await sleep(20);
    const next = await t.call('POST', '/v1/simulate', { body: small, token: t.tokens.operator });
    assert.equal(next.status, 200, next.text);
    assert.equal(await cancelled(), before + 1);
  });

  it('--from-now tells what is missing, by name', async () => {
    const out = await runCli(['simulate', '--from-now', '--playbook', 'nope', '--edge', 'lhr'], env);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /SCENARIO_INVALID/);
    assert.match(out.stderr, /\/fromNow\/playbook: no playbook nope/);
    const usage = await runCli(['simulate', '--from-now', '--edge', 'lhr'], env);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /USAGE: --from-now needs --playbook <name> and --edge <edge>/);
  });
});
