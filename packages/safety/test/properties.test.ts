import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyOfWorld } from '@catchment/testkit/snapshots';
import fc from 'fast-check';
import {
  edgeUsable,
  HOUR_MS,
  judge,
  resultingAction,
  type SafetyAction,
  type SafetyWorld,
  shedFraction,
} from '../src/index.ts';
import { demoWorld, edge } from './world.ts';

/**
 * Whatever sequence of changes automation proposes, applying only the accepted ones
 * never exceeds the blast radius, never withdraws the last route of an address, and
 * never changes a prefix more often than its hourly budget.
 */
const EDGE_NAMES = ['fra', 'iad', 'sin', 'lhr', 'gru', 'syd'];

const proposal = fc.record({
  edge: fc.constantFrom(...EDGE_NAMES),
  kind: fc.constantFrom('dns-shift', 'withdraw-unicast', 'communities', 'dsr-shed'),
  direction: fc.constantFrom('shed', 'shed', 'restore'),
  percent: fc.constantFrom(10, 25, 50, 100),
  fraction: fc.double({ min: 0.05, max: 1, noNaN: true }),
  target: fc.constantFrom(...EDGE_NAMES),
  advanceMs: fc.integer({ min: 0, max: 30 * 60_000 }),
});

const worldArb = fc.record({
  loads: fc.array(fc.integer({ min: 0, max: 110_000 }), { minLength: 6, maxLength: 6 }),
  states: fc.array(fc.constantFrom('active', 'active', 'active', 'draining', 'down'), { minLength: 6, maxLength: 6 }),
  maxEdgesShed: fc.integer({ min: 1, max: 4 }),
  maxCapacityShedPercent: fc.integer({ min: 5, max: 60 }),
  budget: fc.integer({ min: 1, max: 8 }),
  k: fc.integer({ min: 1, max: 3 }),
});

function unicastOf(world: SafetyWorld, name: string): string | undefined {
  return world.prefixes.find((p) => p.kind === 'unicast' && p.edge === name)?.cidr;
}

describe('safety rules (properties)', () => {
  it('no sequence of accepted changes exceeds the blast radius, withdraws the last route, or flaps a prefix beyond its budget', () => {
    fc.assert(
      fc.property(worldArb, fc.array(proposal, { minLength: 1, maxLength: 40 }), (w, proposals) => {
        const base = demoWorld();
        const world: SafetyWorld = {
          ...base,
          edges: base.edges.map((e, i) =>
            edge(e.name, e.capacityRps, Math.min(w.loads[i] ?? 0, e.capacityRps * 1.2), {
              state: w.states[i] as 'active',
            }),
          ),
          settings: {
            ...base.settings,
            maxEdgesShed: w.maxEdgesShed,
            maxCapacityShedPercent: w.maxCapacityShedPercent,
            routeChangesPerPrefixPerHour: w.budget,
            coverageMinAnnouncers: w.k,
          },
        };
        const total = world.edges.reduce((s, e) => s + e.capacityRps, 0);
        const shedEdges = () => world.edges.filter((e) => shedFraction(e, world.actions) > 0).length;
        const shedPercent = () =>
          (100 * world.edges.reduce((s, e) => s + e.capacityRps * shedFraction(e, world.actions), 0)) / total;
        // Edges that are down or draining count as shed from the start: automation may only not make it worse.
        let edgeBound = Math.max(w.maxEdgesShed, shedEdges());
        let capBound = Math.max(w.maxCapacityShedPercent, shedPercent());
        for (const p of proposals) {
          world.now = new Date(world.now.getTime() + p.advanceMs);
          const current = world.actions.find(
            (a) => a.edge === p.edge && a.kind === p.kind && a.source === 'automation',
          );
          const prefix = p.kind === 'withdraw-unicast' ? unicastOf(world, p.edge) : undefined;
          if (p.direction === 'restore' && !current) continue;
          const params: Record<string, unknown> =
            p.kind === 'dns-shift'
              ? { percent: p.direction === 'restore' ? 0 : p.percent, targets: [p.target] }
              : p.kind === 'dsr-shed'
                ? { fraction: p.direction === 'restore' ? 0 : p.fraction, targets: [{ edge: p.target, weight: 1 }] }
                : p.kind === 'communities'
                  ? { communities: ['64500:2002'] }
                  : { prefix };
          // The judge automation's stages go through: every rule, routing's on the compiled body.
          const verdict = judge({ ...world, body: bodyOfWorld(world) }, [
            { kind: p.kind, edge: p.edge, params, source: 'automation', revert: p.direction === 'restore' },
          ]);
          const change = verdict.changes[0];
          if (verdict.refusals.length > 0 || !change) continue;
          // Apply: the action, and the route changes it makes.
          const next = resultingAction(change);
          world.actions = world.actions.filter((a) => a !== current);
          if (next) world.actions.push(next as SafetyAction);
          const routeTouch = p.kind === 'withdraw-unicast' || p.kind === 'communities';
          if (routeTouch) {
            const touched =
              p.kind === 'withdraw-unicast'
                ? [prefix ?? '']
                : world.prefixes
                    .filter((x) => (x.kind === 'unicast' ? x.edge === p.edge : x.announcers.includes(p.edge)))
                    .map((x) => x.cidr);
            for (const t of touched) world.routeChanges.push({ prefix: t, at: world.now });
          }
          // Invariants.
          assert.ok(shedEdges() <= edgeBound, `shed edges ${shedEdges()} > ${edgeBound}`);
          assert.ok(shedPercent() <= capBound + 1e-9, `shed ${shedPercent()} % > ${capBound}`);
          edgeBound = Math.max(w.maxEdgesShed, shedEdges());
          capBound = Math.max(w.maxCapacityShedPercent, shedPercent());
          for (const a of world.actions.filter((x) => x.kind === 'withdraw-unicast')) {
            const sup = world.prefixes.find((x) => x.cidr === '198.18.0.0/20');
            const others = (sup?.announcers ?? []).filter(
              (n) => n !== a.edge && edgeUsable(world.edges.find((e) => e.name === n) ?? world.edges[0]!),
            );
            assert.ok(others.length >= 1, `${a.prefix} withdrawn without another route`);
          }
          const byPrefix = new Map<string, number[]>();
          for (const c of world.routeChanges)
            byPrefix.set(c.prefix, [...(byPrefix.get(c.prefix) ?? []), c.at.getTime()]);
          for (const [pfx, times] of byPrefix) {
            for (const t of times) {
              const inHour = times.filter((x) => x <= t && x > t - HOUR_MS).length;
              assert.ok(inHour <= w.budget, `${pfx}: ${inHour} changes in an hour, budget ${w.budget}`);
            }
          }
        }
      }),
      { numRuns: 400, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) },
    );
  });
});
