import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SnapshotBody } from '@catchment/core';
import { demoBody } from '@catchment/testkit/geo-fixtures';
import { cityRecord, writeMmdb } from '@catchment/testkit/mmdb-writer';
import fc from 'fast-check';
import { buildSteering, GeoDb, SteeringBuilder, type SteeringTable } from '../src/index.ts';

/**
 * The incremental builder must give the very same tables (node for node, so the same answers
 * and the same ECS scopes) as a fresh build, whatever sequence of edge state, shift and load
 * changes arrives.
 */
const dir = mkdtempSync(join(tmpdir(), 'catchment-steer-inc-'));
let geo: GeoDb;
let flat: GeoDb;

before(() => {
  const city = join(dir, 'city.mmdb');
  const asn = join(dir, 'asn.mmdb');
  writeFileSync(
    city,
    writeMmdb([
      { cidr: '192.0.2.0/25', data: cityRecord('GB', 'EU', 51.5, -0.1) },
      { cidr: '192.0.2.128/26', data: cityRecord('GB', 'EU', 51.5, -0.1) },
      { cidr: '192.0.2.192/26', data: cityRecord('GB', 'EU', 51.6, -0.2) },
      { cidr: '198.51.100.0/24', data: cityRecord('DE', 'EU', 50.1, 8.6) },
      { cidr: '203.0.113.0/24', data: cityRecord('NZ', 'OC', -36.8, 174.7) },
      { cidr: '11.0.0.0/8', data: cityRecord('US', 'NA', 38.9, -77.0) },
      { cidr: '12.0.0.0/16', data: cityRecord('CN', 'AS', 39.9, 116.4) },
      { cidr: '13.0.0.0/8', data: cityRecord('US', 'NA', 37.7, -122.4) },
      { cidr: '14.0.0.0/12', data: cityRecord('BR', 'SA', -23.5, -46.6) },
      { cidr: '2001:db8:1::/48', data: cityRecord('DE', 'EU', 50.1, 8.6) },
      { cidr: '2001:db8:2::/40', data: cityRecord('SG', 'AS', 1.3, 103.8) },
    ]),
  );
  writeFileSync(asn, writeMmdb([{ cidr: '13.0.0.0/8', data: { autonomous_system_number: 64501 } }]));
  geo = new GeoDb({ city, asn, watch: false });
  flat = new GeoDb({ watch: false });
});
after(() => {
  geo.close();
  flat.close();
  rmSync(dir, { recursive: true, force: true });
});

const EDGES = ['fra', 'iad', 'sin', 'lhr', 'gru', 'syd'];

function base(): SnapshotBody {
  const b = demoBody();
  b.policies[0]!.rules.push(
    { match: { cidr: '198.51.100.0/24' }, edges: ['syd'] },
    { match: { cidr: '198.51.100.128/25' }, edges: ['gru'] },
    { match: { asn: 64501 }, edges: ['fra'] },
  );
  // A second class: another service on fewer edges.
  const www = b.services[0]!;
  b.services.push({ ...www, name: 'api.example.net', addresses: www.addresses.slice(0, 3) });
  return b;
}

/** One snapshot's worth of changes to edges: state/override/usable, shift, load. */
const edgeChange: fc.Arbitrary<EdgeChange> = fc.record({
  edge: fc.integer({ min: 0, max: EDGES.length - 1 }),
  usable: fc.boolean(),
  shiftPercent: fc.constantFrom(0, 0, 1, 10, 30, 50, 99, 100),
  shiftTargets: fc.subarray(EDGES, { maxLength: 3 }),
  loadRps: fc.option(fc.integer({ min: 0, max: 150000 }), { nil: null }),
});
const step = fc.array(edgeChange, { minLength: 1, maxLength: 3 });

type EdgeChange = {
  edge: number;
  usable: boolean;
  shiftPercent: number;
  shiftTargets: string[];
  loadRps: number | null;
};

function apply(b: SnapshotBody, changes: EdgeChange[]): void {
  for (const c of changes) {
    const e = b.edges[c.edge]!;
    e.usable = c.usable;
    e.state = c.usable ? 'active' : 'down';
    e.override = c.usable ? 'none' : 'drain';
    e.shiftPercent = c.shiftPercent;
    e.shiftTargets = c.shiftTargets.filter((n) => n !== e.name);
    e.loadRps = c.loadRps;
    e.utilisation = c.loadRps === null ? null : c.loadRps / e.capacityRps;
  }
}

function assertSame(a: SteeringTable, b: SteeringTable): void {
  assert.deepEqual([...a.serviceClass], [...b.serviceClass]);
  assert.equal(a.classes.length, b.classes.length);
  a.classes.forEach((c, i) => {
    const d = b.classes[i]!;
    assert.equal(c.key, d.key);
    assert.equal(c.trie.root4, d.trie.root4);
    assert.equal(c.trie.root6, d.trie.root6);
    assert.deepEqual(c.trie.nodes, d.trie.nodes);
    assert.deepEqual(c.trie.parents, d.trie.parents);
  });
}

describe('incremental steering build', () => {
  it('equals a full rebuild for random sequences of state, shift and load changes', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (steps) => {
        const b = base();
        const builder = new SteeringBuilder();
        assertSame(builder.build(b, geo), buildSteering(b, geo));
        for (const s of steps) {
          apply(b, s);
          assertSame(builder.build(b, geo), buildSteering(b, geo));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('equals a full rebuild on the embedded country database', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 2, maxLength: 2 }), (steps) => {
        const b = base();
        const builder = new SteeringBuilder();
        builder.build(b, flat);
        for (const s of steps) {
          apply(b, s);
          assertSame(builder.build(b, flat), buildSteering(b, flat));
        }
      }),
      { numRuns: 2 },
    );
  });

  it('rebuilds when the policies or the GeoIP data change', () => {
    const b = base();
    const builder = new SteeringBuilder();
    builder.build(b, geo);
    b.policies[0]!.rules.unshift({ match: { country: 'US' }, edges: ['gru'] });
    assertSame(builder.build(b, geo), buildSteering(b, geo));
    geo.reload();
    b.edges[0]!.shiftPercent = 40;
    assertSame(builder.build(b, geo), buildSteering(b, geo));
    const other = builder.build(b, flat);
    assertSame(other, buildSteering(b, flat));
  });
});
