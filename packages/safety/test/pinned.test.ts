import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SnapshotBody, SnapshotPin } from '@catchment/core';
import { ENGINE_DEFAULTS, type Proposal, predict, predictedLoads, type SafetyWorld } from '../src/index.ts';
import { demoWorld } from './world.ts';

// lhr's clients as the DNS servers counted them: 60 % in one /24, the rest in two others.
const answers = () =>
  new Map([
    [
      'lhr',
      new Map([
        ['192.0.2.0/24', 600],
        ['198.51.100.0/24', 300],
        ['203.0.113.0/24', 100],
      ]),
    ],
  ]);
const pin = (over: Partial<SnapshotPin>): SnapshotPin => ({
  action: 1,
  edge: 'lhr',
  cidr: '192.0.2.0/24',
  country: null,
  name: null,
  reason: 'customer on lhr',
  expiresAt: null,
  ...over,
});
const withPins = (pins: SnapshotPin[], extra: Partial<SafetyWorld> = {}): SafetyWorld =>
  demoWorld({ answers: answers(), body: { pins } as unknown as SnapshotBody, ...extra });
const shift = (percent: number): Proposal => ({
  kind: 'dns-shift',
  edge: 'lhr',
  params: { percent },
  source: 'operator',
});
const run = (world: SafetyWorld, p: Proposal) => predict(world, [p], ENGINE_DEFAULTS);
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} ≈ ${b}`);

describe('prediction leaves pinned load in place', () => {
  it('a DNS shift moves only the unpinned share; the largest block is the largest unpinned one', () => {
    const free = run(withPins([]), shift(50)).prediction;
    close(free.movedRps, 28_000 * 0.5);
    close(free.granularityRps, 28_000 * 0.5);
    assert.equal(free.pinnedRps, 0);

    // The 60 % block is pinned to lhr: half of the other 40 % moves, plus at most one 30 % block.
    const pinned = run(withPins([pin({})]), shift(50));
    close(pinned.prediction.pinnedRps, 28_000 * 0.6);
    close(pinned.prediction.movedRps, 28_000 * 0.4 * 0.5);
    close(pinned.prediction.granularityRps, 28_000 * 0.2);
    const moved = pinned.moves.reduce((s, m) => s + m.rps, 0);
    close(moved, 28_000 * 0.4);
    const [source] = predictedLoads(pinned.prediction);
    close(source?.afterRps ?? 0, 28_000 * 0.8);
    // A wider pin holds every block inside it.
    close(run(withPins([pin({ cidr: '192.0.0.0/16' })]), shift(50)).prediction.pinnedRps, 28_000 * 0.6);
  });

  it('what does not hold lhr blocks leaves them movable', () => {
    const unpinned = (pins: SnapshotPin[], extra: Partial<SafetyWorld> = {}) =>
      assert.equal(run(withPins(pins, extra), shift(50)).prediction.pinnedRps, 0);
    unpinned([pin({ edge: 'fra' })]);
    // A more specific pin elsewhere wins over lhr's wider one (packages/geo's precedence).
    unpinned([pin({ cidr: '192.0.0.0/16' }), pin({ action: 2, edge: 'fra' })]);
    // Pins the world cannot attribute to blocks: one service's, a country's, narrower than a block.
    unpinned([pin({ name: 'www.example.net' })]);
    unpinned([pin({ cidr: null, country: 'GB' })]);
    unpinned([pin({ cidr: '192.0.2.128/25' })]);
    // A drained edge's pins are suspended.
    const world = demoWorld();
    const drained = world.edges.map((e) => (e.name === 'lhr' ? { ...e, override: 'drain' as const } : e));
    unpinned([pin({})], { edges: drained });
  });

  it('kinds that do not go through DNS answers move pinned clients too', () => {
    const world = withPins([pin({})]);
    const dsr = run(world, { kind: 'dsr-shed', edge: 'lhr', params: { fraction: 0.5 }, source: 'operator' });
    close(dsr.prediction.movedRps, 28_000 * 0.5);
    const drain = run(world, { kind: 'drain', edge: 'lhr', params: {}, source: 'operator' });
    close(drain.prediction.movedRps, 28_000);
  });
});
