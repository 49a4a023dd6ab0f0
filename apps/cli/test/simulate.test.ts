import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadConfigFile } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { GeoDb } from '@catchment/geo';
import { parseScenarioText, type StrategyName, simulate } from '@catchment/sim';
import { tempDir } from '@catchment/testkit';
import { eq } from 'drizzle-orm';
import { stringify } from 'yaml';
import { ControllerDriver } from '../src/simulate/controller-driver.ts';

const run = promisify(execFile);
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

/**
 * A flash crowd in Great Britain on the demo configuration. Every cache clamps TTLs to an
 * hour, so DNS shifts cannot relieve lhr within the playbook's verify windows and the run
 * escalates to its withdrawal step.
 */
const SCENARIO = (config: string) => `
config: ${config}
duration: 12m
clients:
  - { country: GB, rps: 24000, blocks: 200 }
  - { country: DE, rps: 30000, blocks: 100 }
resolvers:
  caches: { honour: 0, clamp: 1, stale: 0, clampMin: 1h }
events:
  - { kind: flash-crowd, at: 30s, ramp: 30s, factor: 1.5, countries: [GB] }
strategies: [none, dns-withdraw]
`;

interface Inspected {
  steps: (typeof schema.runSteps.$inferSelect)[];
  actions: (typeof schema.actions.$inferSelect)[];
  loads: Map<string, number>;
}

describe('catchment simulate with the real controller', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let geo: GeoDb;
  before(async () => {
    dir = await tempDir('sim-cli-');
    geo = new GeoDb({ watch: false });
  });
  after(async () => {
    geo.close();
    await dir.remove();
  });

  /** Runs the scenario on a copy of the demo config edited by `edit`, keeping each run's database rows. */
  async function simulateWith(edit: (cfg: Record<string, unknown>) => void) {
    const cfg = (await loadConfigFile(new URL('../../../config/demo.yaml', import.meta.url).pathname)) as Record<
      string,
      unknown
    >;
    edit(cfg);
    const path = join(dir.path, `config-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(path, stringify(cfg));
    const seen = new Map<string, Inspected>();
    const model = parseScenarioText(SCENARIO(path), dir.path);
    const result = await simulate(model, {
      geo,
      drivers: async (strategy: StrategyName, config, m) => {
        if (strategy === 'none') {
          const { scriptedDrivers } = await import('@catchment/sim');
          return scriptedDrivers(strategy, config, m);
        }
        return new ControllerDriver(config, m, {
          beforeClose: async (db: Db) => {
            seen.set(strategy, {
              steps: await db.select().from(schema.runSteps),
              actions: await db.select().from(schema.actions),
              loads: new Map(
                (
                  await db
                    .select({ name: schema.edges.name, rps: schema.edgeLoads.rps })
                    .from(schema.edgeLoads)
                    .innerJoin(schema.edges, eq(schema.edges.id, schema.edgeLoads.edgeId))
                ).map((r) => [r.name, r.rps]),
              ),
            });
          },
        });
      },
    });
    return { result, seen };
  }

  it('the playbook escalates to a withdrawal and relieves lhr; every action written was judged and allowed', async () => {
    const { result, seen } = await simulateWith(() => {});
    const none = result.runs.find((r) => r.strategy === 'none')!;
    const shed = result.runs.find((r) => r.strategy === 'dns-withdraw')!;
    const lhr = (r: typeof none) => r.edges.find((e) => e.name === 'lhr')!;
    assert.ok(lhr(none).overThresholdSeconds > 600, `no action: lhr over for ${lhr(none).overThresholdSeconds} s`);
    assert.ok(
      shed.steps.some((s) => s.text === 'lhr: withdraw 198.18.4.0/24'),
      JSON.stringify([shed.steps, shed.decisions]),
    );
    assert.ok(lhr(shed).overThresholdSeconds < lhr(none).overThresholdSeconds);
    assert.ok(lhr(shed).relieved, 'lhr under its threshold by the end');
    const { steps, actions, loads } = seen.get('dns-withdraw')!;
    // The controller saw each edge's own load (the last report is the last second's).
    for (const e of shed.edges) {
      // (the series is kept as float32)
      const last = e.load[shed.durationS - 1]!;
      assert.ok(Math.abs((loads.get(e.name) ?? -1) - last) <= 1e-6 * last + 1e-3, `${e.name}'s report`);
    }
    assert.ok(actions.length > 0);
    // A stage records the first action it wrote (a withdrawal writes one per prefix family).
    for (const a of actions) {
      assert.notEqual(a.runId, null, `action ${a.id} (${a.kind}) was written by a run`);
      const stage = steps.find((s) => s.runId === a.runId && s.kind === a.kind && s.actionId !== null);
      assert.ok(stage, `action ${a.id} (${a.kind}) belongs to a stage`);
      assert.equal(stage.refusal, null, `action ${a.id} was written by a stage the judge refused`);
    }
    for (const s of steps) if (s.refusal !== null) assert.equal(s.actionId, null, 'a refused stage wrote no action');
  });

  it('a step the judge refuses is never taken: withdrawal without enough covering announcers', async () => {
    // K = 4 other announcers of the supernet, but only fra, iad and sin announce it.
    const { result, seen } = await simulateWith((cfg) => {
      cfg.settings = { ...(cfg.settings as object), coverageMinAnnouncers: 4 };
    });
    const shed = result.runs.find((r) => r.strategy === 'dns-withdraw')!;
    assert.ok(!shed.steps.some((s) => s.text.includes('withdraw')), JSON.stringify(shed.steps));
    const { steps, actions } = seen.get('dns-withdraw')!;
    assert.ok(!actions.some((a) => a.kind === 'withdraw-unicast'), 'no withdrawal written');
    const refused = steps.filter((s) => s.kind === 'withdraw-unicast' && s.refusal !== null);
    assert.ok(
      refused.length > 0,
      `the withdrawal stage was refused: ${JSON.stringify(steps.map((s) => [s.kind, s.state]))}`,
    );
    assert.match(JSON.stringify(refused[0]!.refusal), /coverage/);
  });

  it('the command prints the table, writes JSON and an SVG, and reports a bad scenario by path', async () => {
    const scenario = join(dir.path, 'small.yaml');
    await writeFile(
      scenario,
      'duration: 3m\nclients: [{ country: GB, rps: 20000, blocks: 20 }]\nevents: [{ kind: flash-crowd, at: 1m, factor: 2, countries: [GB] }]\nstrategies: [none]\n',
    );
    const svg = join(dir.path, 'plot.svg');
    const table = await run(process.execPath, [MAIN, 'simulate', scenario, '--svg', svg]);
    assert.match(table.stdout, /\| none \| \d+ \| \d+ \|/);
    assert.match(await readFile(svg, 'utf8'), /^<svg [^>]*>[\s\S]*lhr \(peak \d+ %\)[\s\S]*<\/svg>\n$/);
    // The catchment map next to it: GB's one dot, at lhr (the demo's London edge) before and after.
    const map = await readFile(join(dir.path, 'plot-catchment.svg'), 'utf8');
    assert.equal(map.match(/<circle class="country edge-lhr" data-country="GB"/g)?.length, 2, map);
    assert.match(table.stdout, /catchment map: .*plot-catchment\.svg/);
    const json = JSON.parse((await run(process.execPath, [MAIN, 'simulate', scenario, '--json'])).stdout);
    assert.equal(json.strategies[0].strategy, 'none');
    assert.ok(json.strategies[0].overThresholdSeconds > 0);
    assert.equal(json.strategies[0].connectionsBroken, 0, 'no route changes: no connection broken');
    const bad = join(dir.path, 'bad.yaml');
    await writeFile(bad, 'duration: 3 minutes\nclients: [{ country: gb, rps: 1 }]\n');
    const err = await run(process.execPath, [MAIN, 'simulate', bad]).then(
      () => assert.fail('a bad scenario must fail'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(err.stderr, /SCENARIO_INVALID/);
    assert.match(err.stderr, /\/duration/);
    assert.match(err.stderr, /\/clients\/0\/country/);
  });
});
