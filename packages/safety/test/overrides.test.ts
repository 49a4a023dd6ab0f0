import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyOfWorld } from '@catchment/testkit/snapshots';
import { checkOverride, judge, type OverrideChange, servicesLosingAnswer } from '../src/index.ts';
import { demoWorld } from './world.ts';

const rules = (refusals: { rule: string }[]) => refusals.map((r) => r.rule);
const drain = (edge: string, extra: Partial<OverrideChange> = {}): OverrideChange => ({
  kind: 'drain',
  edge,
  revert: false,
  moves: [],
  ...extra,
});

describe('operator overrides (drain, force-down, force-up)', () => {
  it('a service keeps a DNS answer: draining or forcing down its only edge is refused', () => {
    const world = demoWorld({ services: [{ name: 'solo.example.net', edges: ['lhr'], anycast: false }] });
    const refused = checkOverride(world, drain('lhr'));
    assert.deepEqual(rules(refused), ['service-answer']);
    assert.equal(refused[0]?.details.service, 'solo.example.net');
    assert.deepEqual(rules(checkOverride(world, drain('lhr', { kind: 'force-down' }))), ['service-answer']);
    // Another edge, or an anycast fallback, keeps the answer.
    assert.deepEqual(checkOverride(world, drain('fra')), []);
    const withAnycast = demoWorld({ services: [{ name: 'solo.example.net', edges: ['lhr'], anycast: true }] });
    assert.deepEqual(checkOverride(withAnycast, drain('lhr')), []);
  });

  it('a service that had no answer before does not block a change', () => {
    const world = demoWorld({ services: [{ name: 'solo.example.net', edges: ['lhr', 'gru'], anycast: false }] });
    world.edges = world.edges.map((e) => (e.name === 'lhr' ? { ...e, state: 'down' as const } : e));
    assert.deepEqual(rules(checkOverride(world, drain('gru'))), ['service-answer']);
    const none = { ...world, edges: world.edges.map((e) => (e.name === 'gru' ? { ...e, state: 'down' as const } : e)) };
    assert.deepEqual(servicesLosingAnswer(none, none), []);
  });

  it('blast radius: an override counts its edge as fully shed', () => {
    const world = demoWorld();
    world.settings = { ...world.settings, maxEdgesShed: 2, maxCapacityShedPercent: 100 };
    world.actions = [
      { id: 1, kind: 'dns-shift', edge: 'gru', prefix: null, source: 'automation', params: { percent: 10 } },
      { id: 2, kind: 'dns-shift', edge: 'syd', prefix: null, source: 'automation', params: { percent: 10 } },
    ];
    const refused = checkOverride(world, drain('lhr'));
    assert.deepEqual(rules(refused), ['blast-radius']);
    assert.deepEqual(refused[0]?.details.shedEdges, ['lhr', 'gru', 'syd']);
    // Capacity share: fra is a third of the capacity.
    const pct = demoWorld();
    pct.settings = { ...pct.settings, maxEdgesShed: 10, maxCapacityShedPercent: 25 };
    assert.deepEqual(rules(checkOverride(pct, drain('fra', { kind: 'force-down' }))), ['blast-radius']);
    assert.deepEqual(checkOverride(pct, drain('gru')), []);
  });

  it('capacity: the load an override moves must fit under the targets thresholds', () => {
    const world = demoWorld();
    const refused = checkOverride(world, drain('lhr', { moves: [{ edge: 'gru', rps: 28_000 }] }));
    assert.deepEqual(rules(refused), ['capacity']);
    assert.equal(refused[0]?.details.target, 'gru');
    assert.ok(Number(refused[0]?.details.predictedUtilisation) > 0.85);
    assert.deepEqual(
      checkOverride(
        world,
        drain('lhr', {
          moves: [
            { edge: 'fra', rps: 14_000 },
            { edge: 'iad', rps: 14_000 },
          ],
        }),
      ),
      [],
    );
  });

  it('only an override that takes a usable edge out of service is judged', () => {
    const world = demoWorld({ services: [{ name: 'solo.example.net', edges: ['lhr'], anycast: false }] });
    // Releasing or forcing up never sheds more.
    assert.deepEqual(checkOverride(world, drain('lhr', { revert: true })), []);
    assert.deepEqual(checkOverride(world, drain('lhr', { kind: 'force-up' })), []);
    // An edge already out of service (down, or already drained) sheds nothing more.
    const down = { ...world, edges: world.edges.map((e) => (e.name === 'lhr' ? { ...e, state: 'down' as const } : e)) };
    assert.deepEqual(checkOverride(down, drain('lhr')), []);
    assert.deepEqual(checkOverride(world, drain('nowhere')), []);
  });

  it('the judge judges overrides too, and lets a freeze through', () => {
    const world = demoWorld({ services: [{ name: 'solo.example.net', edges: ['lhr'], anycast: false }] });
    const op = (kind: string, edge: string | null, revert = false) =>
      rules(
        judge({ ...world, body: bodyOfWorld(world) }, [
          { kind: kind as never, edge, params: {}, source: 'operator', revert },
        ]).refusals,
      );
    assert.deepEqual(op('drain', 'lhr'), ['service-answer']);
    assert.deepEqual(op('force-down', 'lhr'), ['service-answer']);
    assert.deepEqual(op('drain', 'lhr', true), []);
    assert.deepEqual(op('force-up', 'lhr'), []);
    assert.deepEqual(op('freeze', 'lhr'), []);
    assert.deepEqual(op('freeze', null), []);
  });
});
