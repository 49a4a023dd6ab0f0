import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CatchmentError } from '@catchment/core';
import { DEFAULTS, parseScenarioText } from '../src/index.ts';

function errorsOf(text: string): { path: string; message: string }[] {
  try {
    parseScenarioText(text, '/tmp');
  } catch (err) {
    assert.ok(err instanceof CatchmentError);
    assert.equal(err.code, 'SCENARIO_INVALID');
    return err.errors;
  }
  assert.fail('the scenario was accepted');
}

describe('scenario files', () => {
  it('fills in the documented defaults', () => {
    const m = parseScenarioText('duration: 10m\nclients: [{ country: GB, rps: 100 }]\n', '/tmp');
    assert.equal(m.durationS, 600);
    assert.equal(m.publicShare, DEFAULTS.publicShare);
    assert.deepEqual(m.caches, { honour: 0.8, clamp: 0.15, stale: 0.05, clampMinS: 300, staleExtraS: 600 });
    assert.equal(m.propagationDelayS, 30);
    assert.deepEqual(m.alert, { name: 'EdgeOverloaded', threshold: 0.9, forS: 60 });
    assert.deepEqual(m.strategies, ['none', 'full']);
    assert.match(m.configPath, /config\/demo\.yaml$/);
  });

  it('names the path of every bad field', () => {
    const errors = errorsOf(
      'duration: 10 minutes\nclients: [{ country: gb, rps: -1 }]\nresolvers: { publicShare: 2 }\nbogus: 1\n',
    );
    const paths = errors.map((e) => e.path);
    for (const p of ['/duration', '/clients/0/country', '/resolvers/publicShare'])
      assert.ok(paths.includes(p), `${p} in ${paths}`);
    assert.ok(
      paths.some((p) => p === '' || p === '/' || p.includes('bogus')),
      `the unknown key: ${paths}`,
    );
  });

  it('checks what the schema cannot: shares, times, a flash crowd names one target', () => {
    const errors = errorsOf(`
duration: 10m
clients: [{ country: GB, rps: 100 }]
resolvers:
  caches: { honour: 0.5, clamp: 0.2 }
  public: [{ name: a, address: 8.8.8.8, ecs: true, share: 0.5 }]
events:
  - { kind: flash-crowd, at: 20m, factor: 2 }
actions:
  - { at: 11m, kind: dns-shift, edge: lhr }
`);
    const byPath = new Map(errors.map((e) => [e.path, e.message]));
    assert.match(byPath.get('/resolvers/caches')!, /must be 1/);
    assert.match(byPath.get('/resolvers/public')!, /add up to 1/);
    assert.match(byPath.get('/events/0/at')!, /before the end/);
    assert.match(byPath.get('/events/0')!, /either an edge or countries/);
    assert.match(byPath.get('/actions/0/at')!, /before the end/);
  });

  it('reads the routing model: links, peers, catalogues, countries behind transits', () => {
    const m = parseScenarioText(
      `
duration: 10m
clients: [{ country: GB, rps: 100 }]
routing:
  transits:
    transit-a: { edges: [fra, lhr], communities: { "64500:666": { reject: true } } }
    transit-b: { edges: { iad: { localPref: 200, med: 10 } }, peers: [], peerLocalPref: 80 }
  countries: { GB: transit-a, US: { transit-a: 1, transit-b: 3 } }
`,
      '/tmp',
    );
    assert.deepEqual(m.transits['transit-a'], {
      edges: { fra: {}, lhr: {} },
      peers: undefined,
      peerLocalPref: undefined,
      communities: { '64500:666': { reject: true } },
    });
    assert.deepEqual(m.transits['transit-b']!.edges, { iad: { localPref: 200, med: 10 } });
    assert.deepEqual(m.transits['transit-b']!.peers, []);
    assert.deepEqual(m.countryTransits, { GB: { 'transit-a': 1 }, US: { 'transit-a': 1, 'transit-b': 3 } });
    // Without routing keys: no transit set, every country behind every transit alike (transits.ts).
    const plain = parseScenarioText('duration: 10m\nclients: [{ country: GB, rps: 100 }]\n', '/tmp');
    assert.deepEqual([plain.transits, plain.countryTransits], [{}, {}]);
  });

  it('names a bad community value, country code or effect in the routing model', () => {
    const errors = errorsOf(`
duration: 10m
clients: [{ country: GB, rps: 100 }]
routing:
  transits:
    transit-a: { communities: { "64500:1": { prepend: 99 } } }
`);
    const paths = errors.map((e) => e.path);
    assert.ok(paths.includes('/routing/transits/transit-a/communities/64500:1/prepend'), `${paths}`);
    const rules = errorsOf(`
duration: 10m
clients: [{ country: GB, rps: 100 }]
routing:
  transits:
    transit-a: { communities: { "64500:99999": { prepend: 1 } } }
  countries: { gb: transit-a }
`);
    const byPath = new Map(rules.map((e) => [e.path, e.message]));
    assert.match(byPath.get('/routing/transits/transit-a/communities/64500:99999')!, /out of range/);
    assert.match(byPath.get('/routing/countries/gb')!, /alpha-2/);
  });

  it('reports YAML syntax errors by line', () => {
    const errors = errorsOf('duration: 10m\nclients: [\n');
    assert.match(errors[0]!.path, /^line \d+$/);
  });
});
