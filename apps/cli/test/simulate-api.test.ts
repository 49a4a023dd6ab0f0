import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createToken, startApi } from '@catchment/api';
import { loadConfigFile } from '@catchment/core';
import { importConfig, publishSnapshot } from '@catchment/db';
import { GeoDb } from '@catchment/geo';
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
  let geo: GeoDb;
  let t: TestApi;
  let env: Record<string, string>;
  before(async () => {
    dir = await tempDir('sim-api-');
    geo = new GeoDb({ watch: false });
    // What `catchment start` hands its API: the CLI's runner, in a worker thread per simulation.
    t = await startApiHarness('pglite', { startApi, createToken }, { simulate: simulationWorker(), explain: null });
    await importConfig(t.database.db, await loadConfigFile(DEMO), { actor: 'test', reason: 'seed' });
    await publishSnapshot(t.database.db, { actor: 'test', kek: TEST_KEK });
    env = { CATCHMENT_API_URL: t.url, CATCHMENT_API_TOKEN: t.tokens.operator, CATCHMENT_LOG_LEVEL: 'warn' };
  });
  after(async () => {
    await t.close();
    geo.close();
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

  it('the API keeps answering while it simulates', async () => {
    const sim = t.call('POST', '/v1/simulate', {
      body: { ...parse(SMALL), duration: '10m', strategies: ['none', 'full'] },
      token: t.tokens.operator,
    });
    let simulatedAt = 0;
    void sim.then(() => {
      simulatedAt = Date.now();
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Another process asks, as a DNS server or an edge agent would (this one shares the loop).
    const { stdout } = await run(process.execPath, [
      '-e',
      `fetch(${JSON.stringify(`${t.url}/healthz`)}).then((r) => process.stdout.write(String(r.status)))`,
    ]);
    const answeredAt = Date.now();
    assert.equal(stdout, '200');
    assert.equal((await sim).status, 200);
    assert.ok(answeredAt < simulatedAt, `answered ${simulatedAt - answeredAt} ms before the simulation ended`);
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
