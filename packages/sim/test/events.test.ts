import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GeoDb } from '@catchment/geo';
import { tempDir } from '@catchment/testkit';
import {
  catchmentSvg,
  countryUtcOffsetMin,
  curveAt,
  DEFAULT_DIURNAL_CURVE,
  parseScenarioText,
  type RunResult,
  resultJson,
  type SimulationResult,
  simulate,
} from '../src/index.ts';

const rounded = (x: number | undefined) => Math.round(x ?? Number.NaN);

/**
 * fra (Frankfurt) and iad (Ashburn) announce the supernet 198.18.0.0/20 and their own /24s, lhr
 * (London) only its /24. Two transits that peer, A and B; lhr buys from A only (scenario below).
 * Capacities far above the load and no watermarks: DNS answers each country its nearest edge.
 */
const CONFIG = `
settings: { watermarks: false }
zones:
  - name: example.net
    soa: { mname: ns1.example.net., rname: hostmaster.example.net., serial: 1, refresh: 3600, retry: 600, expire: 1209600, minimum: 60 }
    ns: [ns1.example.net.]
edges:
  - { name: fra, location: { lat: 50.03, lon: 8.57, country: DE, continent: EU }, capacity: { rps: 100000 }, dsrAddress: 198.19.0.11 }
  - { name: iad, location: { lat: 38.95, lon: -77.45, country: US, continent: NA }, capacity: { rps: 100000 }, dsrAddress: 198.19.0.12 }
  - { name: lhr, location: { lat: 51.47, lon: -0.45, country: GB, continent: EU }, capacity: { rps: 100000 }, dsrAddress: 198.19.0.14 }
transits:
  - { name: transit-a, asn: 64500, intents: {} }
  - { name: transit-b, asn: 64501, intents: {} }
prefixes:
  - { cidr: 198.18.0.0/20, kind: anycast, announcers: [fra, iad] }
  - { cidr: 198.18.1.0/24, kind: unicast, edge: fra, supernet: 198.18.0.0/20 }
  - { cidr: 198.18.2.0/24, kind: unicast, edge: iad, supernet: 198.18.0.0/20 }
  - { cidr: 198.18.4.0/24, kind: unicast, edge: lhr, supernet: 198.18.0.0/20 }
services:
  - name: www.example.net
    zone: example.net
    ttl: 60
    anycast: { v4: 198.18.0.1 }
    addresses:
      fra: { v4: [198.18.1.10] }
      iad: { v4: [198.18.2.10] }
      lhr: { v4: [198.18.4.10] }
`;

/** GB behind both transits (half each), DE behind B only, US behind A only; 1000 requests/s each. */
const TRANSITS = `
config: config.yaml
duration: 300s
clients:
  - { country: GB, rps: 1000, blocks: 1 }
  - { country: DE, rps: 1000, blocks: 1 }
  - { country: US, rps: 1000, blocks: 1 }
resolvers: { publicShare: 0, ispPerCountry: 1 }
routing:
  transits: { transit-b: { edges: [fra, iad] } }
  countries: { GB: { transit-a: 1, transit-b: 1 }, DE: transit-b, US: transit-a }
dsr: { connectionSeconds: 10 }
strategies: [none]
`;

/** Two edges, one GB block: the worked examples' world (hand.test.ts), a = London (small), b = Frankfurt. */
const HAND_CONFIG = `
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

/** Half behind an ISP resolver clamping to 300 s, half behind a public ECS one honouring 60 s; aligned refreshes. */
const hand = (extra: string) => `
config: hand.yaml
duration: 400s
clients: [{ country: GB, rps: 1000, blocks: 1 }]
resolvers:
  publicShare: 0.5
  public: [{ name: google, address: 8.8.8.8, ecs: true, share: 1, cache: honour }]
  ispPerCountry: 1
  caches: { honour: 0, clamp: 1, stale: 0, clampMin: 300s }
  phase: aligned
routing: { propagationDelay: 30s }
dsr: { connectionSeconds: 10, cost: 0 }
strategies: [none, scripted]
${extra}
`;

describe('events and outputs', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let geo: GeoDb;
  before(async () => {
    dir = await tempDir('sim-events-');
    await writeFile(join(dir.path, 'config.yaml'), CONFIG);
    await writeFile(join(dir.path, 'hand.yaml'), HAND_CONFIG);
    geo = new GeoDb({ watch: false });
  });
  after(async () => {
    geo.close();
    await dir.remove();
  });
  const run = (text: string): Promise<SimulationResult> => simulate(parseScenarioText(text, dir.path), { geo });
  const byName = (r: SimulationResult, strategy: string) => r.runs.find((x) => x.strategy === strategy)!;
  const load = (r: RunResult, edge: string) => r.edges.find((e) => e.name === edge)!.load;
  const broken = (r: RunResult, edge: string) => r.edges.find((e) => e.name === edge)!.connectionsBroken;

  it('a transit outage moves exactly the regions behind it; single-homed ones reach nothing', async () => {
    const r = byName(
      await run(`${TRANSITS}events: [{ kind: transit-outage, transit: transit-a, at: 100s, duration: 100s }]`),
      'none',
    );
    const [fra, iad, lhr] = ['fra', 'iad', 'lhr'].map((e) => load(r, e));
    // Before: GB at lhr (through A, and through B by A's peering), DE at fra (B), US at iad (A).
    assert.deepEqual([fra![99], iad![99], lhr![99], r.dropped[99]].map(rounded), [1000, 1000, 1000, 0]);
    // A out: GB is all behind B, which has no route to lhr's /24 (lhr buys only from A): the
    // supernet, nearest announcer fra. US is behind A alone: nothing. DE (behind B) stays.
    for (const t of [100, 150, 199])
      assert.deepEqual([fra![t], iad![t], lhr![t], r.dropped[t]].map(rounded), [2000, 0, 0, 1000], `at ${t}s`);
    // Back at 200 s.
    assert.deepEqual([fra![200], iad![200], lhr![200], r.dropped[200]].map(rounded), [1000, 1000, 1000, 0]);
    // Broken at 100 s: GB's 1000/s at lhr and US's at iad, 10 s each in flight; at 200 s GB goes
    // back from fra to lhr (10 000 more), US had nothing in flight. DE's never moved.
    assert.equal(Math.round(broken(r, 'lhr')), 10_000);
    assert.equal(Math.round(broken(r, 'iad')), 10_000);
    assert.equal(Math.round(broken(r, 'fra')), 10_000);
    assert.equal(Math.round(r.connectionsBroken), 30_000);
  });

  it('the catchment map shows one dot per country coloured by its edge, before the event and at the end', async () => {
    const result = await run(`${TRANSITS}events: [{ kind: transit-outage, transit: transit-a, at: 100s }]`);
    const json = resultJson(result).runs[0]!.catchment;
    assert.deepEqual(json.before, { atS: 99, countries: { GB: { lhr: 1 }, DE: { fra: 1 }, US: { iad: 1 } } });
    assert.deepEqual(json.after, { atS: 299, countries: { GB: { fra: 1 }, DE: { fra: 1 }, US: { none: 1 } } });
    const svg = catchmentSvg(result.runs);
    const dots = [...svg.matchAll(/<circle class="country (edge-[\w-]+)" data-country="(\w\w)"/g)].map((m) => [
      m[2],
      m[1],
    ]);
    assert.deepEqual(dots, [
      ['GB', 'edge-lhr'],
      ['DE', 'edge-fra'],
      ['US', 'edge-iad'],
      ['GB', 'edge-fra'],
      ['DE', 'edge-fra'],
      ['US', 'edge-none'],
    ]);
    // Every class a dot uses has a colour, and every edge is marked.
    for (const cls of new Set(dots.map((d) => d[1])))
      assert.match(svg, new RegExp(`\\.${cls} \\{ fill: #[0-9a-f]{3,6}; \\}`));
    assert.equal(svg.match(/<rect class="edge edge-/g)?.length, 6, 'three edges on each of the two maps');
    assert.match(svg, /^<svg [^>]*>[\s\S]*<\/svg>\n$/);
  });

  it('an unknown transit in an outage is refused by name', async () => {
    await assert.rejects(
      run(`${TRANSITS}events: [{ kind: transit-outage, transit: transit-z, at: 100s }]`),
      /\/events\/0\/transit: the configuration has no transit transit-z/,
    );
  });

  it('a cache flush makes every flushed resolver take the current answer at once', async () => {
    const shift = `actions: [{ at: 100s, kind: dns-shift, edge: a, params: { percent: 100 } }]`;
    const flushed = byName(
      await run(hand(`${shift}\nevents: [{ kind: cache-flush, share: 1, at: 150s }]`)),
      'scripted',
    );
    const none = byName(await run(hand(`${shift}\nevents: [{ kind: cache-flush, share: 0, at: 150s }]`)), 'scripted');
    const a = load(flushed, 'a');
    // The ECS half followed the shift at its refresh (120 s); the ISP half clamps to 300 s…
    assert.deepEqual([a[119], a[120], a[149]].map(rounded), [1000, 500, 500]);
    // …until the flush at 150 s: both re-query and get the shifted answer, b.
    assert.equal(Math.round(a[150]!), 0);
    assert.equal(Math.round(load(flushed, 'b')[150]!), 1000);
    // A flush of no resolver changes nothing: the ISP half waits for 300 s.
    const a0 = load(none, 'a');
    assert.deepEqual([a0[150], a0[299], a0[300]].map(rounded), [500, 500, 0]);
    // DNS changes break no connection.
    assert.equal(flushed.connectionsBroken, 0);
  });

  it('a withdrawal breaks the in-flight connections of the moved clients, an edge failure all of its own', async () => {
    const r = await run(
      hand(`actions: [{ at: 100s, kind: withdraw-unicast, edge: a, params: { prefix: 198.18.4.0/24 } }]`),
    );
    const s = byName(r, 'scripted');
    // At 130 s the routes move a's remaining 500/s (the ECS half left by DNS at 120 s) to b:
    // 500/s × 10 s in flight.
    assert.equal(Math.round(load(s, 'a')[129]!), 500);
    assert.equal(Math.round(load(s, 'a')[130]!), 0);
    assert.ok(Math.abs(broken(s, 'a') - 5000) < 1, `broken ${broken(s, 'a')}`);
    assert.equal(Math.round(s.connectionsBroken), 5000);
    assert.equal(byName(r, 'none').connectionsBroken, 0);
    const f = byName(await run(hand('events: [{ kind: edge-failure, at: 100s, edge: a }]')), 'none');
    // a fails with 1000/s in flight × 10 s; when its withdrawal propagates, nothing was reaching it.
    assert.equal(Math.round(f.connectionsBroken), 10_000);
  });

  it('a diurnal curve scales each country by its local time, and offered load is still served or dropped', async () => {
    // Hour h's factor is h + 1. GB is at UTC+0 in December, JP at UTC+9.
    const curve = Array.from({ length: 24 }, (_, h) => h + 1);
    const r = byName(
      await run(`
config: config.yaml
duration: 2h
start: 2026-12-01T00:00:00Z
clients: [{ country: GB, rps: 1000, blocks: 2 }, { country: JP, rps: 1000, blocks: 2 }]
diurnal: { curve: [${curve.join(', ')}] }
strategies: [none]
`),
      'none',
    );
    // GB: 00:00 → 1, 01:00 → 2 (×2), 00:30 → 1.5. JP: 09:00 → 10, 10:00 → 11 (×1.1).
    assert.equal(Math.round(r.offered[0]!), 2000);
    assert.equal(Math.round(r.offered[1800]!), 1500 + 1050);
    assert.equal(Math.round(r.offered[3600]!), 2000 + 1100);
    for (let t = 0; t < r.durationS; t++) {
      const served = r.edges.reduce((n, e) => n + e.load[t]!, 0);
      assert.ok(Math.abs(r.offered[t]! - served - r.dropped[t]!) < 1e-3 * r.offered[t]!, `conserved at ${t}s`);
    }
    const off = byName(
      await run(`config: config.yaml\nduration: 2h\nclients: [{ country: GB, rps: 1000 }]\nstrategies: [none]\n`),
      'none',
    );
    assert.equal(Math.round(off.offered[3600]!), 1000, 'no curve by default');
  });

  it('the new keys are checked by path: a curve of 24 positive factors, a share, a transit name', () => {
    const bad = `duration: 10m
clients: [{ country: GB, rps: 1 }]
diurnal: { curve: [1, 2, 3] }
events: [{ kind: cache-flush, at: 1m, share: 1.5 }, { kind: transit-outage, at: 1m }]
`;
    assert.throws(
      () => parseScenarioText(bad, '/'),
      (e: { errors?: { path: string }[] }) => {
        assert.deepEqual(
          (e.errors ?? []).map((x) => x.path),
          ['/diurnal/curve', '/events/0/share', '/events/1/transit'],
        );
        return true;
      },
    );
    const ok = parseScenarioText(
      'duration: 10m\nclients: [{ country: GB, rps: 1 }]\nevents: [{ kind: cache-flush, at: 1m, share: 0.3 }, { kind: transit-outage, transit: t, at: 2m, duration: 1m }]\n',
      '/',
    );
    assert.equal(ok.diurnal, null, 'off by default');
    assert.deepEqual(
      ok.events.map((e) => [e.kind, e.atS, e.endS, e.share, e.transit]),
      [
        ['cache-flush', 60, Number.POSITIVE_INFINITY, 0.3, undefined],
        ['transit-outage', 120, 180, 0, 't'],
      ],
    );
  });

  it('the default curve peaks in the evening and bottoms out at about 45 % around 04:00–05:00', () => {
    assert.equal(DEFAULT_DIURNAL_CURVE.length, 24);
    assert.equal(Math.max(...DEFAULT_DIURNAL_CURVE), curveAt(DEFAULT_DIURNAL_CURVE, 21));
    assert.equal(Math.min(...DEFAULT_DIURNAL_CURVE), 0.45);
    assert.equal(curveAt(DEFAULT_DIURNAL_CURVE, 4.5), 0.45);
    assert.equal(curveAt(DEFAULT_DIURNAL_CURVE, 23.5), (0.93 + 0.85) / 2, 'wraps at midnight');
    const model = parseScenarioText('duration: 1m\nclients: [{ country: GB, rps: 1 }]\ndiurnal: true\n', '/');
    assert.equal(model.diurnal, DEFAULT_DIURNAL_CURVE);
    // Time zones with their daylight saving: GB, and the US by its centre of population (Central).
    assert.equal(countryUtcOffsetMin('GB', -1.5, new Date('2026-12-01T12:00:00Z')), 0);
    assert.equal(countryUtcOffsetMin('GB', -1.5, new Date('2026-07-01T12:00:00Z')), 60);
    assert.equal(countryUtcOffsetMin('US', -90, new Date('2026-12-01T12:00:00Z')), -360);
    assert.equal(countryUtcOffsetMin('JP', 139, new Date('2026-07-01T12:00:00Z')), 540);
  });
});
