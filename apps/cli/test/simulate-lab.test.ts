import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type CatchmentConfig, loadConfigFile } from '@catchment/core';
import { loadScenarioFile, type RunResult } from '@catchment/sim';
import { labCityMmdb, labConfig } from '@catchment/testkit/traffic-lab';
import { parse, stringify } from 'yaml';
import { simulationRunner } from '../src/simulate/runner.ts';

const docs = (p: string) => new URL(`../../../docs/${p}`, import.meta.url).pathname;
const SCENARIO = docs('scenarios/lab-flash-crowd.yaml');

/**
 * The calibration scenario (docs/scenarios/lab-flash-crowd.yaml: the traffic lab's flash crowd
 * at lhr, which `pnpm bench:calibrate` also runs in the lab) in the simulator, with the real
 * controller, against outcomes worked out by hand. lhr's capacity is 40 req/s and the alert's
 * threshold 36; gb offers 15 req/s, 50 from second 4 (35 through the resolver, whose every
 * cache entry is filled at 0 s and kept the record's 60 s; 15 to lhr's address, never asking).
 */
describe('the lab scenario in the simulator', () => {
  it('describes the lab: its configuration and GeoIP database are the ones the lab imports', async () => {
    const demo = parse(
      await readFile(new URL('../../../config/demo.yaml', import.meta.url), 'utf8'),
    ) as CatchmentConfig;
    delete demo.playbooks;
    labConfig(demo, { fra: 60, iad: 80, lhr: 40, gru: 40 });
    // TrafficLab's settings over the demo's (packages/testkit/src/traffic-lab/lab.ts).
    demo.settings = {
      ...demo.settings,
      routeChangesPerPrefixPerHour: 120,
      maxCapacityShedPercent: 60,
      watermarks: false,
    };
    const file = await loadConfigFile(docs('scenarios/lab-config.yaml'));
    const { playbooks, ...rest } = file;
    assert.equal(playbooks?.length, 1);
    // The lab's benchmarks set the TTL through the API (60 s); the demo's is 30 s.
    for (const s of demo.services ?? []) s.ttl = 60;
    assert.deepEqual(rest, await normalised(demo));
    assert.ok((await readFile(docs('scenarios/lab-geoip.mmdb'))).equals(labCityMmdb()), 'lab-geoip.mmdb is stale');
  });

  it('relieves lhr when hand-worked timing says so, per strategy', async () => {
    const model = await loadScenarioFile(SCENARIO);
    model.strategies = ['none', 'dns-ttl60', 'dns-withdraw', 'full'];
    const { runs } = await simulationRunner()(model, {});
    const by = new Map(runs.map((r) => [r.strategy, r]));
    const lhr = (r: RunResult) => Array.from(r.edges.find((e) => e.name === 'lhr')!.load);
    const over = (r: RunResult) => lhr(r).filter((x) => x > 36).length;
    const alertAt = (r: RunResult) => r.decisions.find((d) => d.text.startsWith('alert EdgeOverloaded firing'))?.t;
    const stepAt = (r: RunResult, text: string) => r.steps.find((s) => s.text.includes(text))?.t;

    // No action: 50 req/s at lhr from second 4 to the end.
    const none = by.get('none')!;
    assert.deepEqual(lhr(none).slice(0, 5), [15, 15, 15, 15, 50]);
    assert.equal(over(none), 76);
    for (const r of runs) {
      // Nothing is created or lost: every request offered is served (no DSR cost in the lab's count).
      assert.ok(Math.abs(r.offeredRequests - r.servedRequests) < 1e-3, `${r.strategy}: conservation`);
      assert.equal(r.droppedRequests, 0);
    }

    // The alert fires 2 s into the crowd (over 0.9 for 1 s), and the run shifts DNS at once; each
    // shift's 3 s verify window fails (every cache still holds lhr), so 50 % follows at 9 s and
    // the routing step at 12 s.
    const dns = by.get('dns-ttl60')!;
    assert.equal(alertAt(dns), 6);
    assert.equal(stepAt(dns, 'dns-shift 25%'), 6);
    assert.equal(stepAt(dns, 'dns-shift 50%'), 9);
    // DNS only: no relief before the caches expire at 60 s (the TTL bound), and at once then; the
    // 15 req/s that never ask stay at lhr.
    const d = lhr(dns);
    assert.ok(
      d.slice(4, 60).every((x) => x === 50),
      'lhr keeps its whole crowd until the cache expiry',
    );
    assert.ok(d.slice(60).every((x) => x >= 15 && x <= 36));
    assert.equal(over(dns), 56);

    // DNS + withdrawal: withdrawn at 12 s, routes follow 1 s later (propagation), and every
    // connection to lhr's address then reaches fra, the supernet's nearest announcer.
    const wd = by.get('dns-withdraw')!;
    assert.equal(stepAt(wd, 'withdraw 198.18.4.0/24'), 12);
    const w = lhr(wd);
    assert.equal(w[12], 50);
    assert.ok(w.slice(13).every((x) => x === 0));
    assert.equal(over(wd), 9);

    // The full playbook: DSR 50 % of new connections to fra at 12 s halves lhr at once; its
    // verification is met, so the withdrawal is never reached.
    const full = by.get('full')!;
    assert.equal(stepAt(full, 'dsr 50%'), 12);
    assert.equal(stepAt(full, 'withdraw'), undefined);
    assert.equal(lhr(full)[12], 25);
    assert.equal(over(full), 8);

    // The headline: overload-seconds of the full playbook against DNS only at TTL 60 s.
    assert.ok(over(full) < over(dns) / 5);
  });
});

/** The configuration as importConfig reads it (loadConfigFile validates and fills defaults). */
async function normalised(config: CatchmentConfig): Promise<CatchmentConfig> {
  const path = join(tmpdir(), `lab-config-${process.pid}.yaml`);
  await writeFile(path, stringify(config));
  try {
    const { playbooks: _, ...rest } = await loadConfigFile(path);
    return rest as CatchmentConfig;
  } finally {
    await rm(path, { force: true });
  }
}
