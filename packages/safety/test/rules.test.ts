import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyOfWorld } from '@catchment/testkit/snapshots';
import {
  type Change,
  checkDwell,
  checkExitHeld,
  checkRoutes,
  classify,
  evaluateChange,
  headroomRps,
  judge,
  type SafetyWorld,
  shedFraction,
} from '../src/index.ts';
import { demoWorld, NOW } from './world.ts';

const shift = (edge: string, percent: number, moves: Change['moves'] = []): Change => ({
  kind: 'dns-shift',
  edge,
  source: 'automation',
  direction: 'shed',
  params: { percent, targets: moves.map((m) => m.edge) },
  moves,
});
const rules = (refusals: { rule: string }[]) => refusals.map((r) => r.rule);

describe('safety rules', () => {
  it('accept a modest shift onto targets with headroom', () => {
    assert.deepEqual(
      evaluateChange(
        demoWorld(),
        shift('lhr', 10, [
          { edge: 'fra', rps: 1500 },
          { edge: 'iad', rps: 1300 },
        ]),
      ),
      [],
    );
  });

  it('capacity: refuse a move that pushes a target over its threshold, and say by how much', () => {
    const [r, ...rest] = evaluateChange(demoWorld(), shift('lhr', 50, [{ edge: 'gru', rps: 10_000 }]));
    assert.equal(rest.length, 0);
    assert.equal(r?.rule, 'capacity');
    assert.equal(r?.details.target, 'gru');
    assert.ok(Math.abs(Number(r?.details.predictedUtilisation) - 0.9) < 1e-9);
  });

  it('capacity: refuse targets with an unknown load or that are not usable', () => {
    const world = demoWorld();
    world.edges[0] = { ...world.edges[0]!, loadRps: null };
    world.edges[4] = { ...world.edges[4]!, state: 'maintenance' };
    const out = evaluateChange(
      world,
      shift('lhr', 10, [
        { edge: 'fra', rps: 100 },
        { edge: 'gru', rps: 100 },
      ]),
    );
    assert.deepEqual(rules(out), ['capacity', 'capacity']);
  });

  it('blast radius: at most M edges shed at once, and at most X % of capacity', () => {
    const world = demoWorld();
    world.actions = [
      { kind: 'dns-shift', edge: 'gru', prefix: null, source: 'automation', params: { percent: 10 } },
      { kind: 'dns-shift', edge: 'syd', prefix: null, source: 'operator', params: { percent: 10 } },
    ];
    const out = evaluateChange(world, shift('lhr', 10));
    assert.deepEqual(rules(out), ['blast-radius']);
    assert.deepEqual(out[0]?.details.shedEdges, ['lhr', 'gru', 'syd']);
    // Raising a shift on an edge that is already shed does not add an edge.
    const replaces = world.actions[0];
    assert.deepEqual(evaluateChange(world, { ...shift('gru', 25), ...(replaces ? { replaces } : {}) }), []);
    // Capacity: withdrawing fra's unicast sheds 100 % of 100k of 370k = 27 %; with syd's shift, still under 30 %...
    const big: Change = {
      kind: 'withdraw-unicast',
      edge: 'fra',
      source: 'automation',
      direction: 'shed',
      params: {},
      prefix: '198.18.1.0/24',
      moves: [],
    };
    const one = demoWorld();
    assert.deepEqual(rules(evaluateChange(one, big)), []);
    // ...but with lhr fully withdrawn as well it is over 30 %.
    one.actions = [
      { kind: 'withdraw-unicast', edge: 'lhr', prefix: '198.18.4.0/24', source: 'automation', params: {} },
    ];
    assert.deepEqual(rules(evaluateChange(one, big)), ['blast-radius']);
  });

  it('an unusable edge counts as fully shed', () => {
    const world = demoWorld();
    assert.equal(shedFraction({ ...world.edges[0]!, override: 'drain' }, []), 1);
    assert.equal(
      shedFraction(world.edges[0]!, [
        { kind: 'dns-shift', edge: 'fra', prefix: null, source: 'operator', params: { percent: 25 } },
      ]),
      0.25,
    );
  });

  it('a service is never left without a DNS answer', () => {
    const world = demoWorld({ services: [{ name: 'solo.example.net', edges: ['lhr'], anycast: false }] });
    assert.deepEqual(rules(evaluateChange(world, shift('lhr', 100))), ['service-answer']);
    assert.deepEqual(rules(evaluateChange(world, shift('lhr', 50))), []);
  });

  it('humans win: freeze, overrides and operator actions beat automation', () => {
    const frozen = demoWorld({
      actions: [{ kind: 'freeze', edge: null, prefix: null, source: 'operator', params: {} }],
    });
    assert.deepEqual(rules(evaluateChange(frozen, shift('lhr', 10))), ['humans-win']);
    const edgeFrozen = demoWorld({
      actions: [{ kind: 'freeze', edge: 'gru', prefix: null, source: 'operator', params: {} }],
    });
    assert.deepEqual(rules(evaluateChange(edgeFrozen, shift('lhr', 10))), []);
    const overridden = demoWorld();
    overridden.edges[3] = { ...overridden.edges[3]!, override: 'force-up' };
    assert.deepEqual(rules(evaluateChange(overridden, shift('lhr', 10))), ['humans-win']);
    const drained = demoWorld();
    drained.edges[0] = { ...drained.edges[0]!, override: 'drain' };
    assert.ok(rules(evaluateChange(drained, shift('lhr', 10, [{ edge: 'fra', rps: 10 }]))).includes('humans-win'));
    // Operators are not refused by humans-win.
    assert.deepEqual(rules(evaluateChange(frozen, { ...shift('lhr', 10), source: 'operator' })), []);
  });

  it('route budget: a withdrawal reserves its re-announcement; a restore is never blocked; a second withdrawal is a no-op', () => {
    const prefix = '198.18.4.0/24';
    const withdraw: Change = {
      kind: 'withdraw-unicast',
      edge: 'lhr',
      source: 'automation',
      direction: 'shed',
      params: { prefix },
      prefix,
      moves: [],
    };
    const at = (minAgo: number) => ({ prefix, at: new Date(NOW.getTime() - minAgo * 60_000) });
    assert.deepEqual(
      rules(evaluateChange(demoWorld({ routeChanges: [at(10), at(20), at(30), at(40)] }), withdraw)),
      [],
    );
    assert.deepEqual(
      rules(evaluateChange(demoWorld({ routeChanges: [at(10), at(20), at(30), at(40), at(50)] }), withdraw)),
      ['route-budget'],
    );
    // Changes older than an hour do not count.
    assert.deepEqual(
      rules(evaluateChange(demoWorld({ routeChanges: [at(61), at(62), at(63), at(64), at(65)] }), withdraw)),
      [],
    );
    const restore: Change = { ...withdraw, direction: 'restore' };
    assert.deepEqual(
      rules(evaluateChange(demoWorld({ routeChanges: [at(1), at(2), at(3), at(4), at(5)] }), restore)),
      [],
    );
    // Undoing is never blocked (it used to wait here): the shed reserved its change.
    assert.deepEqual(
      rules(evaluateChange(demoWorld({ routeChanges: [at(1), at(2), at(3), at(4), at(5), at(6)] }), restore)),
      [],
    );
    assert.deepEqual(
      rules(evaluateChange(demoWorld({ routeChanges: [at(1), at(2), at(3), at(4), at(5), at(6), at(7)] }), restore)),
      [],
    );
    const withdrawn = demoWorld({
      actions: [{ id: 3, kind: 'withdraw-unicast', edge: 'lhr', prefix, source: 'automation', params: { prefix } }],
    });
    assert.deepEqual(rules(evaluateChange(withdrawn, withdraw)), ['no-op']);
  });

  it('coverage before withdrawal, and never the last route (judged by @catchment/routing on the body)', () => {
    const prefix = '198.18.4.0/24';
    const withdraw = (w: SafetyWorld, edge = 'lhr') =>
      checkRoutes({ ...w, body: bodyOfWorld(w) }, [{ edge, prefix, state: 'withdrawn' }]);
    assert.deepEqual(withdraw(demoWorld()), []);
    const thin = demoWorld();
    thin.edges[0] = { ...thin.edges[0]!, state: 'down' };
    thin.edges[1] = { ...thin.edges[1]!, loadRps: 110_000 }; // iad has no headroom
    assert.deepEqual(rules(withdraw(thin)), ['coverage']);
    thin.edges[2] = { ...thin.edges[2]!, override: 'force-down' };
    // @catchment/routing names the missing coverage first, with no announcer left.
    const none = withdraw(thin);
    assert.deepEqual(rules(none), ['coverage']);
    assert.match(none[0]?.reason ?? '', /has 0 other healthy announcer/);
    const orphan = demoWorld();
    orphan.prefixes = orphan.prefixes.filter((p) => p.kind !== 'anycast');
    assert.deepEqual(rules(withdraw(orphan)), ['coverage']);
    assert.deepEqual(rules(withdraw(demoWorld(), 'gru')), ['coverage'], "gru does not announce lhr's prefix");
    assert.deepEqual(
      rules(checkRoutes(demoWorld(), [{ edge: 'lhr', prefix, state: 'withdrawn' }])),
      ['coverage'],
      'no body: refused',
    );
  });

  it('connections survive: a DSR change keeps every target that carries flows, and needs DSR addresses', () => {
    const world = demoWorld();
    const previous = {
      kind: 'dsr-shed' as const,
      edge: 'lhr',
      prefix: null,
      source: 'automation' as const,
      params: {
        fraction: 0.25,
        targets: [
          { edge: 'fra', weight: 1 },
          { edge: 'iad', weight: 1 },
        ],
      },
    };
    world.actions = [previous];
    const change = (targets: string[]): Change => ({
      kind: 'dsr-shed',
      edge: 'lhr',
      source: 'automation',
      direction: 'shed',
      params: { fraction: 0.1, targets: targets.map((edge) => ({ edge, weight: 1 })) },
      moves: [],
      replaces: previous,
    });
    assert.deepEqual(rules(evaluateChange(world, change(['fra', 'iad', 'sin']))), []);
    assert.deepEqual(rules(evaluateChange(world, change(['fra']))), ['connection-safety']);
    world.edges[2] = { ...world.edges[2]!, dsrAddress: null };
    assert.deepEqual(rules(evaluateChange(world, change(['fra', 'iad', 'sin']))), ['connection-safety']);
  });

  it('hysteresis and dwell', () => {
    assert.equal(classify(0.9, 0.85, 0.7), 'over');
    assert.equal(classify(0.85, 0.85, 0.7), 'over');
    assert.equal(classify(0.8, 0.85, 0.7), 'between');
    assert.equal(classify(0.7, 0.85, 0.7), 'under');
    assert.equal(classify(null, 0.85, 0.7), 'unknown');
    assert.equal(classify(Number.NaN, 0.85, 0.7), 'unknown');
    assert.deepEqual(rules(checkDwell(new Date(NOW.getTime() - 60_000), 300_000, NOW, 'dns-shift')), ['dwell']);
    assert.deepEqual(checkDwell(new Date(NOW.getTime() - 300_000), 300_000, NOW, 'dns-shift'), []);
    assert.deepEqual(rules(checkExitHeld(null, 1000, NOW)), ['hysteresis']);
    assert.deepEqual(checkExitHeld(new Date(NOW.getTime() - 1000), 1000, NOW), []);
    assert.equal(headroomRps(demoWorld().edges[3]!), 0, 'lhr at 93 % has no headroom');
    assert.equal(headroomRps(demoWorld().edges[0]!), 45_000);
  });
});

describe('proposed actions (the API pipeline)', () => {
  it('judges an operator action as a change: raise = shed, lower or revert = restore', () => {
    const world = demoWorld();
    world.actions = [
      { id: 1, kind: 'dns-shift', edge: 'gru', prefix: null, source: 'automation', params: { percent: 10 } },
      { id: 2, kind: 'dns-shift', edge: 'syd', prefix: null, source: 'automation', params: { percent: 10 } },
    ];
    const op = (kind: string, edge: string, params: Record<string, unknown>, revert = false) =>
      judge({ ...world, body: bodyOfWorld(world) }, [
        { kind: kind as never, edge, params, source: 'operator', revert },
      ]).refusals.map((r) => r.rule);
    assert.deepEqual(op('dns-shift', 'lhr', { percent: 20 }), ['blast-radius']);
    assert.deepEqual(op('dns-shift', 'gru', { percent: 50 }), []);
    assert.deepEqual(op('dns-shift', 'gru', { percent: 5 }), []);
    assert.deepEqual(op('dns-shift', 'gru', {}, true), []);
    assert.deepEqual(op('freeze', 'lhr', {}), []);
    assert.deepEqual(op('withdraw-unicast', 'gru', { prefix: '198.18.5.0/24' }), []);
    world.edges = world.edges.map((e) => (['fra', 'iad'].includes(e.name) ? { ...e, state: 'down' as const } : e));
    assert.ok(op('withdraw-unicast', 'gru', { prefix: '198.18.5.0/24' }).includes('coverage'));
  });
});
