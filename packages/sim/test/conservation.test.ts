import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GeoDb } from '@catchment/geo';
import fc from 'fast-check';
import { scenarioFrom, simulate } from '../src/index.ts';

const EDGES = ['fra', 'iad', 'sin', 'lhr', 'gru', 'syd'] as const;
const PREFIX: Record<string, string> = { lhr: '198.18.4.0/24', gru: '198.18.5.0/24', syd: '198.18.6.0/24' };

/**
 * Whatever the clients, resolvers, events and operator actions: every second, the load offered
 * equals the load served (less the DSR forwarding cost, which is extra work) plus the load that
 * reached no edge; and no strategy serves more than it was offered.
 */
describe('conservation of offered load', () => {
  let geo: GeoDb;
  before(() => {
    geo = new GeoDb({ watch: false });
  });
  after(() => geo.close());

  it('holds per second for random scenarios on the demo configuration', async () => {
    const country = fc.constantFrom('GB', 'DE', 'US', 'BR', 'AU', 'SG', 'FR', 'JP');
    const action = fc.oneof(
      fc.record({
        at: fc.integer({ min: 0, max: 170 }),
        kind: fc.constant('dns-shift' as const),
        edge: fc.constantFrom(...EDGES),
        params: fc.record({ percent: fc.integer({ min: 1, max: 100 }) }),
      }),
      fc.record({
        at: fc.integer({ min: 0, max: 170 }),
        kind: fc.constant('withdraw-unicast' as const),
        edge: fc.constantFrom('lhr', 'gru', 'syd'),
      }),
      fc.record({
        at: fc.integer({ min: 0, max: 170 }),
        kind: fc.constant('dsr-shed' as const),
        edge: fc.constantFrom(...EDGES),
        params: fc.record({ fraction: fc.double({ min: 0.05, max: 0.9, noNaN: true }) }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ country, rps: fc.integer({ min: 1, max: 50_000 }), blocks: fc.integer({ min: 1, max: 30 }) }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(action, { maxLength: 4 }),
        fc.option(fc.record({ at: fc.integer({ min: 1, max: 170 }), edge: fc.constantFrom(...EDGES) }), {
          nil: undefined,
        }),
        fc.option(
          fc.record({
            at: fc.integer({ min: 0, max: 170 }),
            factor: fc.double({ min: 0, max: 5, noNaN: true }),
            country,
          }),
          {
            nil: undefined,
          },
        ),
        // The demo has one transit: its outage drops everything while it lasts.
        fc.option(fc.record({ at: fc.integer({ min: 0, max: 170 }), duration: fc.integer({ min: 1, max: 100 }) }), {
          nil: undefined,
        }),
        fc.option(
          fc.record({ at: fc.integer({ min: 0, max: 170 }), share: fc.double({ min: 0, max: 1, noNaN: true }) }),
          {
            nil: undefined,
          },
        ),
        fc.boolean(),
        async (clients, publicShare, actions, failure, crowd, outage, flush, diurnal) => {
          const model = scenarioFrom(
            {
              duration: '180s',
              clients,
              resolvers: { publicShare },
              diurnal,
              // 04:00 UTC: the curve is steepest for some of the countries.
              start: '2026-12-01T04:00:00Z',
              events: [
                ...(outage
                  ? [
                      {
                        kind: 'transit-outage',
                        transit: 'transit-a',
                        at: `${outage.at}s`,
                        duration: `${outage.duration}s`,
                      },
                    ]
                  : []),
                ...(flush ? [{ kind: 'cache-flush', at: `${flush.at}s`, share: flush.share }] : []),
                ...(failure ? [{ kind: 'edge-failure', at: `${failure.at}s`, edge: failure.edge }] : []),
                ...(crowd
                  ? [
                      {
                        kind: 'flash-crowd',
                        at: `${crowd.at}s`,
                        ramp: '20s',
                        factor: crowd.factor,
                        countries: [crowd.country],
                      },
                    ]
                  : []),
              ],
              actions: actions.map((a) => ({
                at: `${a.at}s`,
                kind: a.kind,
                edge: a.edge,
                params: a.kind === 'withdraw-unicast' ? { prefix: PREFIX[a.edge] } : a.params,
              })),
              strategies: ['none', 'scripted'],
            },
            '.',
          );
          const result = await simulate(model, { geo });
          for (const run of result.runs) {
            const cost = run.dsrCostRequests;
            assert.ok(
              Math.abs(run.servedRequests - cost + run.droppedRequests - run.offeredRequests) <
                1e-6 * run.offeredRequests + 1e-3,
            );
            for (let t = 0; t < run.durationS; t++) {
              let served = 0;
              for (const e of run.edges) served += e.load[t]!;
              // Served includes the DSR cost, so served - dropped can exceed offered only by that.
              assert.ok(served + run.dropped[t]! >= run.offered[t]! * (1 - 1e-5) - 1e-3, `second ${t}: load lost`);
              assert.ok(
                served + run.dropped[t]! <= run.offered[t]! * (1 + model.dsr.cost) + 1e-3,
                `second ${t}: load created`,
              );
            }
          }
        },
      ),
      { numRuns: 15, seed: 18 },
    );
  });
});
