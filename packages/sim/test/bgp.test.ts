import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ActiveAction, CatchmentError, normaliseConfig, parseConfigText } from '@catchment/core';
import { compileBody } from '@catchment/db';
import { countryCentroid, GeoDb } from '@catchment/geo';
import { tempDir } from '@catchment/testkit';
import { parseScenarioText, routeTable, type SimulationResult, simulate } from '../src/index.ts';
import { buildTopology } from '../src/transits.ts';

/**
 * Three edges: fra (Frankfurt) and iad (Ashburn) announce the supernet 198.18.0.0/20, lhr
 * (London) only its /24. Two transits that peer: A (AS 64500) and B (AS 64501), with the
 * traffic lab's community catalogue by default (prepend <asn>:200N, lower <asn>:70, no
 * export to a peer <asn>:<peer asn>). Links: local preference 100, peer routes 90.
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
  - { name: transit-a, asn: 64500, intents: { prepend-2x: ["64500:2002"] } }
  - { name: transit-b, asn: 64501, intents: { prepend-2x: ["64501:2002"] } }
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

// Where the simulator puts each country's clients: its population-weighted centre.
const COUNTRIES = ['GB', 'DE', 'US'].map((code) => ({ code, ...countryCentroid(code)! }));
const EDGES = ['fra', 'iad', 'lhr'];

let nextId = 1;
function action(kind: ActiveAction['kind'], edge: string, params: Record<string, unknown>): ActiveAction {
  const at = new Date('2026-12-01T18:00:00Z');
  return { id: nextId++, kind, edge, params, createdAt: at, expiresAt: null, source: 'operator' };
}

const tag = (edge: string, communities: string[], transit?: string, prefix?: string) =>
  action('communities', edge, { communities, ...(transit ? { transit } : {}), ...(prefix ? { prefix } : {}) });

/**
 * Where each region's packets for `address` (anycast, or an edge's service address) arrive,
 * with the scenario's routing keys: per country, the edge of each of its regions (one per transit).
 */
function catchment(routing: string, actions: ActiveAction[]) {
  const model = parseScenarioText(`duration: 60s\nclients: [{ country: GB, rps: 1 }]\nrouting: ${routing}\n`, '/');
  const body = compileBody(normaliseConfig(parseConfigText(CONFIG)), actions);
  const topo = buildTopology(body, COUNTRIES, model);
  const table = routeTable(body, 'www.example.net', topo, model.routeOverrides, COUNTRIES);
  return (address: 'anycast' | 'fra' | 'iad' | 'lhr', country: string): (string | null)[] => {
    const a = address === 'anycast' ? 0 : EDGES.indexOf(address) + 1;
    const c = COUNTRIES.findIndex((x) => x.code === country);
    const out: (string | null)[] = [];
    for (let r = topo.regionStart[c]!; r < topo.regionStart[c + 1]!; r++) {
      const e = table.receive[a * table.regions + r]!;
      out.push(e < 0 ? null : EDGES[e]!);
    }
    return out;
  };
}

describe('BGP policy in the route table', () => {
  it('a prepend on one edge’s supernet towards a transit moves that transit’s regions, not the other’s', () => {
    const routing = '{ countries: { GB: transit-a, DE: transit-b } }';
    const before = catchment(routing, []);
    // Equal local preference and AS path everywhere: hot potato, fra is nearest to both.
    assert.deepEqual([before('anycast', 'GB'), before('anycast', 'DE')], [['fra'], ['fra']]);
    // fra's supernet is 1 + 2 ASes long at A, iad's 1: A's regions go to iad. B never saw the prepend.
    const after = catchment(routing, [tag('fra', ['64500:2002'], 'transit-a', '198.18.0.0/20')]);
    assert.deepEqual([after('anycast', 'GB'), after('anycast', 'DE')], [['iad'], ['fra']]);
    // Only the supernet was tagged: fra's own /24 has one announcer and stays.
    assert.deepEqual(after('fra', 'GB'), ['fra']);
  });

  it('a transit acts only on its own catalogue: A’s prepend on every session does not move B’s regions', () => {
    const at = catchment('{ countries: { GB: transit-a, DE: transit-b } }', [
      tag('fra', ['64500:2002'], undefined, '198.18.0.0/20'),
    ]);
    assert.deepEqual([at('anycast', 'GB'), at('anycast', 'DE')], [['iad'], ['fra']]);
  });

  it('a country behind both transits (the default) is split: the prepend moves the half behind A', () => {
    const at = catchment('{}', [tag('fra', ['64500:2002'], 'transit-a', '198.18.0.0/20')]);
    assert.deepEqual(at('anycast', 'GB'), ['iad', 'fra']);
  });

  it('no-export towards a peer transit removes the route there: its regions follow the supernet', () => {
    // lhr buys only from A; B's regions reach lhr's /24 through A's peering.
    const routing = `{ transits: { transit-b: { edges: [fra, iad] } }, countries: { GB: transit-a, US: transit-b } }`;
    const before = catchment(routing, []);
    assert.deepEqual([before('lhr', 'GB'), before('lhr', 'US')], [['lhr'], ['lhr']]);
    // 64500:64501: A does not pass the route to AS 64501 (B). B has only the supernet: nearest, iad.
    const after = catchment(routing, [tag('lhr', ['64500:64501'], 'transit-a')]);
    assert.deepEqual([after('lhr', 'GB'), after('lhr', 'US')], [['lhr'], ['iad']]);
  });

  it('a value the scenario’s catalogue rejects hides the route at that transit and at its peers', () => {
    const routing = `{ transits: { transit-a: { communities: { "64500:666": { reject: true } } }, transit-b: { edges: [fra, iad] } }, countries: { GB: transit-a, US: transit-b } }`;
    const at = catchment(routing, [tag('lhr', ['64500:666'], 'transit-a')]);
    // A carries no route to lhr's /24: GB's packets follow the supernet to fra; B learnt it only from A.
    assert.deepEqual([at('lhr', 'GB'), at('lhr', 'US')], [['fra'], ['iad']]);
  });

  it('local preference beats AS path length', () => {
    const routing = '{ countries: { US: transit-a } }';
    // At A: iad's supernet 1 + 3 ASes long, fra's 1, both at 100: the shorter path wins, fra.
    const prepended = catchment(routing, [tag('iad', ['64500:2003'], 'transit-a', '198.18.0.0/20')]);
    assert.deepEqual(prepended('anycast', 'US'), ['fra']);
    // fra lowered to 70 at A (below the peer routes' 90): iad at 100, four ASes long, beats
    // fra's one AS at 70 and both routes through B (90, two ASes long).
    const lowered = catchment(routing, [
      tag('iad', ['64500:2003'], 'transit-a', '198.18.0.0/20'),
      tag('fra', ['64500:70'], 'transit-a', '198.18.0.0/20'),
    ]);
    assert.deepEqual(lowered('anycast', 'US'), ['iad']);
  });

  it('a link’s local preference beats the nearer announcer; the scenario’s overrides beat both', () => {
    const routing =
      '{ transits: { transit-a: { edges: { fra: {}, iad: { localPref: 200 }, lhr: {} } } }, countries: { GB: transit-a } }';
    assert.deepEqual(catchment(routing, [])('anycast', 'GB'), ['iad']);
    const forced = catchment(
      routing.replace('countries:', 'overrides: [{ country: GB, prefix: 198.18.0.0/20, edge: fra }], countries:'),
      [],
    );
    assert.deepEqual(forced('anycast', 'GB'), ['fra']);
  });

  it('names what the configuration lacks: a transit, an edge, a peer', () => {
    for (const routing of [
      '{ transits: { transit-c: {} } }',
      '{ transits: { transit-a: { edges: [ams] } } }',
      '{ transits: { transit-a: { peers: [transit-c] } } }',
      '{ countries: { GB: transit-c } }',
    ]) {
      assert.throws(
        () => catchment(routing, []),
        (e: unknown) => e instanceof CatchmentError && e.code === 'SCENARIO_INVALID' && /transit-c|ams/.test(e.message),
        routing,
      );
    }
  });
});

/**
 * End to end: one GB block of 1000 requests/s behind one ISP resolver honouring the 60 s TTL.
 * GB's clients are behind transit A, which ranks iad's link above fra's (local preference 200).
 */
describe('BGP policy over simulated time', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let geo: GeoDb;
  before(async () => {
    dir = await tempDir('sim-bgp-');
    await writeFile(join(dir.path, 'config.yaml'), CONFIG);
    geo = new GeoDb({ watch: false });
  });
  after(async () => {
    geo.close();
    await dir.remove();
  });
  const run = (routing: string, actions: string): Promise<SimulationResult> =>
    simulate(
      parseScenarioText(
        `
config: config.yaml
duration: 300s
clients: [{ country: GB, rps: 1000, blocks: 1 }]
resolvers: { publicShare: 0, ispPerCountry: 1, caches: { honour: 1 }, phase: aligned }
routing: ${routing}
dsr: { connectionSeconds: 0, cost: 0 }
strategies: [scripted]
actions: ${actions}
`,
        dir.path,
      ),
      { geo },
    );
  const load = (r: SimulationResult, edge: string) => r.runs[0]!.edges.find((e) => e.name === edge)!.load;
  const WITHDRAW = '[{ at: 100s, kind: withdraw-unicast, edge: lhr, params: { prefix: 198.18.4.0/24 } }]';

  it('withdrawing a /24 sends its traffic along the supernet to the announcer the policy picks', async () => {
    const r = await run(
      '{ propagationDelay: 30s, transits: { transit-a: { edges: { fra: {}, iad: { localPref: 200 }, lhr: {} } } }, countries: { GB: transit-a } }',
      WITHDRAW,
    );
    const [lhr, fra, iad] = [load(r, 'lhr'), load(r, 'fra'), load(r, 'iad')];
    // lhr keeps its headroom, so DNS keeps answering lhr: only the routes move, 30 s after the publication.
    for (const t of [0, 129]) assert.equal(Math.round(lhr[t]!), 1000, `lhr at ${t}s`);
    for (const t of [130, 299]) {
      assert.equal(Math.round(lhr[t]!), 0, `lhr at ${t}s`);
      assert.equal(Math.round(iad[t]!), 1000, `iad at ${t}s: A prefers iad's link`);
      assert.equal(Math.round(fra[t]!), 0, `fra at ${t}s`);
    }
  });

  it('without a policy the withdrawn /24’s traffic goes to the nearest announcer', async () => {
    const r = await run('{ propagationDelay: 30s }', WITHDRAW);
    assert.equal(Math.round(load(r, 'fra')[130]!), 1000);
    assert.equal(Math.round(load(r, 'iad')[130]!), 0);
  });

  it('tagging a community moves the computed catchment after the propagation delay', async () => {
    // lhr's /24 withdrawn from the start: GB is on the supernet, at fra (nearest); at 100 s fra's
    // supernet is prepended twice towards A, where GB's clients are: from 130 s they reach iad.
    const r = await run(
      '{ propagationDelay: 30s, countries: { GB: transit-a } }',
      `[{ at: 0s, kind: withdraw-unicast, edge: lhr, params: { prefix: 198.18.4.0/24 } },
        { at: 100s, kind: communities, edge: fra, params: { communities: ["64500:2002"], transit: transit-a, prefix: 198.18.0.0/20 } }]`,
    );
    const [fra, iad] = [load(r, 'fra'), load(r, 'iad')];
    for (const t of [0, 129]) assert.equal(Math.round(fra[t]!), 1000, `fra at ${t}s`);
    for (const t of [130, 299]) assert.equal(Math.round(iad[t]!), 1000, `iad at ${t}s`);
    assert.equal(Math.round(fra[130]!), 0);
  });
});
