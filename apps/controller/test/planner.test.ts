import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS } from '@catchment/core';
import { evaluateChange, type SafetyEdge } from '@catchment/safety';
import { STEPS } from '@catchment/testkit/world';
import type { ControllerWorld } from '../src/model.ts';
import { planStage } from '../src/planner.ts';
import { stagesOf } from '../src/stages.ts';

const edge = (
  name: string,
  capacityRps: number,
  loadRps: number | null,
  extra: Partial<SafetyEdge> = {},
): SafetyEdge => ({
  name,
  capacityRps,
  loadRps,
  state: 'active',
  override: 'none',
  threshold: 0.85,
  dsrAddress: `198.18.0.${capacityRps % 200}`,
  ...extra,
});

function world(loads: Record<string, number | null>, answers?: Map<string, Map<string, number>>): ControllerWorld {
  const caps: Record<string, number> = {
    fra: 100_000,
    iad: 120_000,
    sin: 80_000,
    lhr: 30_000,
    gru: 20_000,
    syd: 20_000,
  };
  const edges = Object.entries(caps).map(([n, c]) => edge(n, c, loads[n] ?? null));
  const prefixes = [
    { cidr: '198.18.0.0/20', kind: 'anycast' as const, edge: null, announcers: ['fra', 'iad', 'sin'], supernet: null },
    { cidr: '198.18.4.0/24', kind: 'unicast' as const, edge: 'lhr', announcers: ['lhr'], supernet: '198.18.0.0/20' },
  ];
  return {
    now: new Date('2026-11-22T02:00:00Z'),
    settings: { ...DEFAULT_SETTINGS },
    edges,
    actions: [],
    prefixes,
    services: [{ name: 'www.example.net', edges: Object.keys(caps), anycast: true }],
    routeChanges: [],
    edgeIds: new Map(Object.keys(caps).map((n, i) => [n, i + 1])),
    edgeNames: new Map(Object.keys(caps).map((n, i) => [i + 1, n])),
    prefixIds: new Map(prefixes.map((p, i) => [p.cidr, i + 1])),
    transits: new Map([['transit-a', { 'prepend-2x': ['64500:2002'] }]]),
    answers: answers ?? new Map(),
    // No compiled body: the routing rules (judged on it) are not what these tests are about.
    body: undefined as unknown as ControllerWorld['body'],
  };
}

const stages = stagesOf(STEPS, { verifyMs: 120_000, dwellMs: 300_000 });
const opts = { minTargets: 2, dnsSteerableShare: 1 };
const NORMAL = { fra: 40_000, iad: 50_000, sin: 30_000, lhr: 28_000, gru: 8_000, syd: 8_000 };

/** The world with the edges' coordinates (readWorld takes them from the compiled body). */
function placed(w: ControllerWorld): ControllerWorld {
  const at: Record<string, [number, number]> = {
    fra: [50.1, 8.7],
    lhr: [51.5, -0.1],
    iad: [38.9, -77.0],
    sin: [1.35, 103.8],
    gru: [-23.5, -46.6],
    syd: [-33.9, 151.2],
  };
  return { ...w, edges: w.edges.map((e) => ({ ...e, lat: at[e.name]?.[0], lon: at[e.name]?.[1] })) };
}

describe('planner', () => {
  it('sends shed load to the nearest targets that have room for it, never to one', () => {
    const plan = planStage(placed(world(NORMAL)), 1, 'lhr', stages[0]!, opts);
    // fra alone has room for twice the 2 800 rps, but shed load never goes to one edge:
    // the next nearest (iad) joins; gru, sin and syd are further away and not needed.
    assert.deepEqual(plan.actions[0]?.params.targets, ['fra', 'iad']);
    assert.deepEqual(plan.prediction.targets.map((t) => t.edge).sort(), ['fra', 'iad']);
    // When the nearest are nearly full, the next ones join until the room suffices.
    const busy = placed(world({ ...NORMAL, fra: 84_000, iad: 101_000 }));
    const wider = planStage(busy, 1, 'lhr', stages[0]!, opts);
    assert.deepEqual(wider.actions[0]?.params.targets, ['fra', 'gru', 'iad']);
  });

  it('spreads shed load over every target with headroom, in proportion to the headroom', () => {
    const plan = planStage(world(NORMAL), 1, 'lhr', stages[0]!, opts);
    assert.equal(plan.prediction.movedRps, 2800);
    const headroom: Record<string, number> = { fra: 45_000, iad: 52_000, sin: 38_000, gru: 9_000, syd: 9_000 };
    const total = Object.values(headroom).reduce((a, b) => a + b, 0);
    for (const t of plan.prediction.targets) {
      assert.ok(Math.abs(t.movedRps - (2800 * (headroom[t.edge] ?? 0)) / total) < 1e-6, t.edge);
    }
    assert.deepEqual(plan.actions, [
      { kind: 'dns-shift', edge: 'lhr', params: { percent: 10, targets: ['fra', 'gru', 'iad', 'sin', 'syd'] } },
    ]);
  });

  it('a later stage moves only its own share of what is left', () => {
    const w = world({ ...NORMAL, lhr: 25_200 });
    w.actions = [
      { id: 7, kind: 'dns-shift', edge: 'lhr', prefix: null, source: 'automation', params: { percent: 10 }, runId: 1 },
    ];
    const plan = planStage(w, 1, 'lhr', stages[1]!, opts);
    // From 10 % to 25 %: 15 of the remaining 90 % of 28 000 rps.
    assert.ok(Math.abs(plan.prediction.movedRps - 25_200 * (15 / 90)) < 1e-6);
    assert.equal(plan.changes[0]?.replaces?.id, 7);
  });

  it('refuses to put everything onto one edge', () => {
    const busy = { fra: 90_000, iad: 110_000, sin: 75_000, lhr: 28_000, gru: 8_000, syd: 19_000 };
    const plan = planStage(world(busy), 1, 'lhr', stages[0]!, opts);
    assert.equal(plan.refusals[0]?.rule, 'capacity');
    assert.match(plan.refusals[0]?.reason ?? '', /at least 2/);
  });

  it('uses the DNS answer counts as its traffic model: coarse client blocks can move more', () => {
    const answers = new Map([
      [
        'lhr',
        new Map([
          ['192.0.2.0/24', 600],
          ['198.51.100.0/24', 300],
          ['203.0.113.0/24', 100],
        ]),
      ],
    ]);
    const plan = planStage(world(NORMAL, answers), 1, 'lhr', stages[0]!, opts);
    // One block carries 60 % of lhr's answers: shifting "10 %" may move up to 70 %.
    assert.ok(Math.abs(plan.prediction.granularityRps - 28_000 * 0.6) < 1e-6);
    const moved = plan.changes[0]?.moves.reduce((s, m) => s + m.rps, 0) ?? 0;
    assert.ok(Math.abs(moved - 28_000 * 0.7) < 1e-6, 'the capacity check uses the upper bound');
    // With tight targets, the same stage is refused because of the coarse block.
    const tight = world({ fra: 80_000, iad: 96_000, sin: 64_000, lhr: 28_000, gru: 16_000, syd: 16_000 }, answers);
    const tplan = planStage(tight, 1, 'lhr', stages[0]!, opts);
    const refusals = tplan.changes.flatMap((c) => evaluateChange(tight, c));
    assert.ok(
      refusals.some((r) => r.rule === 'capacity'),
      JSON.stringify(refusals),
    );
    const fine = planStage(tight, 1, 'lhr', stages[0]!, opts);
    assert.ok(fine.prediction.movedRps < 3000);
  });

  it('withdraw-unicast sends the unicast traffic to the supernet announcers by capacity', () => {
    const plan = planStage(world(NORMAL), 1, 'lhr', stages[3]!, opts);
    assert.deepEqual(
      plan.actions.map((a) => a.params),
      [{ prefix: '198.18.4.0/24' }],
    );
    const byEdge = Object.fromEntries(plan.prediction.targets.map((t) => [t.edge, t.movedRps]));
    assert.ok(Math.abs((byEdge.fra ?? 0) - (28_000 * 100) / 300) < 1e-6);
    assert.ok(Math.abs((byEdge.iad ?? 0) - (28_000 * 120) / 300) < 1e-6);
  });

  it('communities come from the transit intent catalogue; dsr-shed picks targets with a DSR address', () => {
    const com = planStage(world(NORMAL), 1, 'lhr', stages[4]!, opts);
    assert.deepEqual(com.actions[0]?.params, { communities: ['64500:2002'], transit: 'transit-a' });
    const w = world(NORMAL);
    w.edges = w.edges.map((e) => (e.name === 'fra' ? { ...e, dsrAddress: null } : e));
    const dsr = planStage(w, 1, 'lhr', stages[5]!, opts);
    assert.deepEqual(dsr.actions[0]?.params, { fraction: 0.25, targets: ['gru', 'iad', 'sin', 'syd'] });
    assert.equal(dsr.prediction.movedRps, 7000);
  });

  it('an edge that never reported its load cannot be planned for', () => {
    const plan = planStage(world({ ...NORMAL, lhr: null }), 1, 'lhr', stages[0]!, opts);
    assert.equal(plan.refusals[0]?.rule, 'capacity');
  });
});
