import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GeoDb } from '@catchment/geo';
import { tempDir } from '@catchment/testkit';
import { parseScenarioText, type SimulationResult, simulate } from '../src/index.ts';

/**
 * Two edges: `a` in London (small), `b` in Frankfurt (large, announces the covering supernet).
 * No DNS load spreading: with one client block, worked by hand, DNS drops `a` whole once it
 * has no headroom (watermarks would move the block or not by its hash).
 */
const CONFIG = `
settings: { watermarks: false }
zones:
  - name: example.net
    soa: { mname: ns1.example.net., rname: hostmaster.example.net., serial: 1, refresh: 3600, retry: 600, expire: 1209600, minimum: 60 }
    ns: [ns1.example.net.]
edges:
  - { name: a, location: { lat: 51.47, lon: -0.45, country: GB, continent: EU }, capacity: { rps: 800 }, dsrAddress: 198.19.0.14 }
  - { name: b, location: { lat: 50.03, lon: 8.57, country: DE, continent: EU }, capacity: { rps: 10000 }, dsrAddress: 198.19.0.11 }
prefixes:
  - { cidr: 198.18.0.0/20, kind: anycast, announcers: [b] }
  - { cidr: 198.18.1.0/24, kind: unicast, edge: b, supernet: 198.18.0.0/20 }
  - { cidr: 198.18.4.0/24, kind: unicast, edge: a, supernet: 198.18.0.0/20 }
services:
  - name: www.example.net
    zone: example.net
    ttl: 60
    anycast: { v4: 198.18.0.1 }
    addresses:
      a: { v4: [198.18.4.10] }
      b: { v4: [198.18.1.10] }
`;

/**
 * One GB client block of 1000 requests/s, half behind its ISP's resolver (no ECS, clamps every
 * TTL to 300 s), half behind a public resolver with ECS that honours the 60 s TTL. Caches refresh
 * at multiples of their lifetime (aligned). At 100 s an operator shifts 100 % of a's DNS answers.
 */
const scenario = (extra = '') => `
config: config.yaml
duration: 600s
clients:
  - { country: GB, rps: 1000, blocks: 1 }
resolvers:
  publicShare: 0.5
  public: [{ name: google, address: 8.8.8.8, ecs: true, share: 1, cache: honour }]
  ispPerCountry: 1
  caches: { honour: 0, clamp: 1, stale: 0, clampMin: 300s }
  phase: aligned
routing: { propagationDelay: 30s }
dsr: { connectionSeconds: 0, cost: 0 }
strategies: [none, scripted]
${extra}
`;

describe('worked examples', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let geo: GeoDb;
  before(async () => {
    dir = await tempDir('sim-hand-');
    await writeFile(join(dir.path, 'config.yaml'), CONFIG);
    geo = new GeoDb({ watch: false });
  });
  after(async () => {
    geo.close();
    await dir.remove();
  });
  const run = (extra: string): Promise<SimulationResult> =>
    simulate(parseScenarioText(scenario(extra), dir.path), { geo });
  const series = (r: SimulationResult, strategy: string, edge: string) =>
    r.runs.find((x) => x.strategy === strategy)!.edges.find((e) => e.name === edge)!.load;

  it('a DNS shift reaches each cache at its next refresh: 60 s TTL honoured, 300 s clamp', async () => {
    const r = await run(`actions: [{ at: 100s, kind: dns-shift, edge: a, params: { percent: 100 } }]`);
    const a = series(r, 'scripted', 'a');
    const b = series(r, 'scripted', 'b');
    // Before the shift, and until the public resolver's entry expires at 120 s (next multiple of 60).
    for (const t of [0, 99, 100, 119]) assert.equal(Math.round(a[t]!), 1000, `a at ${t}s`);
    // From 120 s the honouring half has moved; the clamping ISP resolver holds until 300 s.
    for (const t of [120, 200, 299]) assert.equal(Math.round(a[t]!), 500, `a at ${t}s`);
    for (const t of [300, 599]) assert.equal(Math.round(a[t]!), 0, `a at ${t}s`);
    for (let t = 0; t < 600; t++) assert.ok(Math.abs(a[t]! + b[t]! - 1000) < 1e-6, `conserved at ${t}s`);
    const scripted = r.runs.find((x) => x.strategy === 'scripted')!;
    // a's threshold is 0.85 (the default): over until 120 s only; no action: the whole run.
    assert.equal(scripted.edges.find((e) => e.name === 'a')!.overThresholdSeconds, 120);
    assert.equal(scripted.edges.find((e) => e.name === 'a')!.timeToReliefS, 120);
    assert.equal(
      r.runs.find((x) => x.strategy === 'none')!.edges.find((e) => e.name === 'a')!.overThresholdSeconds,
      600,
    );
    assert.deepEqual(scripted.steps, [{ t: 100, text: 'a: dns-shift 100%' }]);
    // Frankfurt is ~640 km farther from GB's centroid than London: every moved request is farther.
    assert.ok(scripted.servedFartherRequests > 0);
    assert.ok(scripted.addedRttMs > 3 && scripted.addedRttMs < 10, `added RTT ${scripted.addedRttMs}`);
  });

  it('a withdrawal moves every client after the propagation delay, whatever the caches hold', async () => {
    const r = await run(`actions: [{ at: 100s, kind: withdraw-unicast, edge: a, params: { prefix: 198.18.4.0/24 } }]`);
    const a = series(r, 'scripted', 'a');
    const b = series(r, 'scripted', 'b');
    // The snapshot published at 100 s carries a's load (125 %: no headroom), so DNS also answers b
    // from then on: the honouring ECS half follows at 120 s, before the routes have propagated.
    assert.equal(Math.round(a[119]!), 1000);
    assert.equal(Math.round(a[120]!), 500);
    assert.equal(Math.round(a[129]!), 500);
    assert.equal(Math.round(a[130]!), 0, 'withdrawn at 100 s, propagated by 130 s: the supernet goes to b');
    assert.equal(Math.round(b[130]!), 1000);
    const scripted = r.runs.find((x) => x.strategy === 'scripted')!;
    assert.deepEqual(scripted.steps, [{ t: 100, text: 'a: withdraw 198.18.4.0/24' }]);
  });

  it('DSR moves its fraction of new connections at once when connections are short', async () => {
    const r = await run(`actions: [{ at: 100s, kind: dsr-shed, edge: a, params: { fraction: 0.25, targets: [b] } }]`);
    const a = series(r, 'scripted', 'a');
    const b = series(r, 'scripted', 'b');
    assert.equal(Math.round(a[99]!), 1000);
    assert.equal(Math.round(a[100]!), 750);
    assert.equal(Math.round(b[100]!), 250);
  });

  it('an edge failure drops its traffic until the withdrawal propagates, then the supernet takes it', async () => {
    const r = await run(`events: [{ kind: edge-failure, at: 100s, edge: a }]`);
    const none = r.runs.find((x) => x.strategy === 'none')!;
    const b = series(r, 'none', 'b');
    assert.equal(Math.round(none.dropped[100]!), 1000, 'a is down, its routes still point at it');
    // DNS answers move too (a is down): the ECS half at 120 s, the ISP half at 300 s; routes at 130 s.
    assert.equal(Math.round(none.dropped[129]!), 500);
    assert.equal(Math.round(none.dropped[130]!), 0);
    assert.equal(Math.round(b[130]!), 1000);
  });
});
