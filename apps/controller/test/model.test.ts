import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Database, schema } from '@catchment/db';
import { freshDatabase } from '@catchment/testkit';
import { FakeClock, MIN, NORMAL_LOADS, reportLoads, seedWorld } from '@catchment/testkit/world';
import { loadWorld } from '../src/model.ts';

describe('world model (PGlite)', () => {
  let database: Database;
  let ids: Map<string, number>;
  before(async () => {
    database = await freshDatabase('pglite');
    ids = await seedWorld(database.db);
  });
  after(() => database.close());

  it('reads loads (stale ones unknown), overrides from actions, DNS answer counts, the compiled state', async () => {
    const db = database.db;
    const clock = new FakeClock();
    await reportLoads(db, ids, NORMAL_LOADS, clock.now());
    await reportLoads(db, ids, { syd: 9_000 }, new Date(clock.t - 10 * MIN));
    // Two DNS servers' reports, in the shape apps/dns sends.
    for (const [name, blocks] of [
      [
        'dns-1',
        [
          { block: '192.0.2.0/24', edge: 'lhr', answers: 30 },
          { block: '198.51.100.0/24', edge: 'lhr', answers: 10 },
        ],
      ],
      [
        'dns-2',
        [
          { block: '192.0.2.0/24', edge: 'lhr', answers: 5 },
          { block: '203.0.113.0/24', edge: null, answers: 99 },
        ],
      ],
    ] as const) {
      await db
        .insert(schema.consumers)
        .values({ name, kind: 'dns', healthy: true, load: { answers: 1 }, details: { intervalMs: 60_000, blocks } });
    }
    await db.insert(schema.actions).values({
      kind: 'drain',
      edgeId: ids.get('gru') ?? null,
      params: {},
      reason: 'maintenance',
      actor: 'alice',
      source: 'operator',
      createdAt: clock.now(),
    });
    const world = await loadWorld(db, clock.now(), { loadStaleMs: 2 * MIN });
    const edge = (n: string) => world.edges.find((e) => e.name === n);
    assert.equal(edge('lhr')?.loadRps, 28_000);
    assert.equal(edge('lhr')?.threshold, 0.85, 'the edge SLO enter threshold');
    assert.equal(edge('fra')?.threshold, 0.85, 'DEFAULT_UTILISATION_THRESHOLD without an SLO');
    assert.equal(edge('syd')?.loadRps, null, 'a stale report is unknown load');
    assert.equal(edge('gru')?.override, 'drain');
    assert.deepEqual(
      [...(world.answers.get('lhr') ?? new Map())],
      [
        ['192.0.2.0/24', 35],
        ['198.51.100.0/24', 10],
      ],
    );
    assert.equal(world.body?.edges.find((e) => e.name === 'gru')?.override, 'drain');
    assert.deepEqual(world.prefixes.find((p) => p.cidr === '198.18.4.0/24')?.supernet, '198.18.0.0/20');
  });
});
