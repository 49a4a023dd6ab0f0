import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SnapshotBody, SnapshotPin } from '@catchment/core';
import { demoBody } from '@catchment/testkit/geo-fixtures';
import { cityRecord, writeMmdb } from '@catchment/testkit/mmdb-writer';
import { buildSteering, explainClient, GeoDb, leafEdge, lookupBits, parseNetwork } from '../src/index.ts';

/**
 * The pin resolver against the answer tables the DNS servers use (the end-to-end test with dig is
 * apps/cli/test/pin.test.ts): edge, scope and precedence, for the query path and for explain.
 */
const dir = mkdtempSync(join(tmpdir(), 'catchment-pins-'));
let geo: GeoDb;
before(() => {
  const city = join(dir, 'city.mmdb');
  writeFileSync(
    city,
    writeMmdb([
      { cidr: '198.51.100.0/22', data: cityRecord('GB', 'EU', 51.5, -0.1) },
      { cidr: '203.0.113.0/24', data: cityRecord('AU', 'OC', -33.9, 151.2) },
    ]),
  );
  geo = new GeoDb({ city, watch: false });
});
after(() => {
  geo.close();
  rmSync(dir, { recursive: true, force: true });
});

const pin = (p: Partial<SnapshotPin> & { action: number; edge: string }): SnapshotPin => ({
  cidr: null,
  country: null,
  name: null,
  reason: `pin ${p.action}`,
  expiresAt: null,
  ...p,
});

/** What the query path does for an ECS subnet: pin trie first, then the answer trie. */
function answer(body: SnapshotBody, subnet: string): { edge: string | null; scope: number } {
  const table = buildSteering(body, geo);
  const cls = table.classes[table.serviceClass.get('www.example.net')!]!;
  const n = parseNetwork(subnet)!;
  const out = { value: 0, length: 0, key: 0 };
  let pinLength = 0;
  if (cls.pins.trie) {
    lookupBits(cls.pins.trie, n.family, n.bytes, 0, n.bytes.length, out);
    pinLength = out.length;
  }
  if (!(cls.pins.trie && out.value > 0)) lookupBits(cls.trie, n.family, n.bytes, 0, n.bytes.length, out);
  const e = leafEdge(out.value);
  const scope = Math.min(Math.max(out.length, pinLength), n.length);
  const explained = explainClient(body, table, geo, { name: 'www.example.net', client: subnet })!;
  const edge = e >= 0 ? cls.edges[e]!.name : null;
  assert.equal(explained.edge, edge, `explain agrees on the edge for ${subnet}`);
  assert.equal(explained.scope, scope, `explain agrees on the scope for ${subnet}`);
  return { edge, scope };
}

const withPins = (pins: SnapshotPin[], change?: (b: SnapshotBody) => void): SnapshotBody => {
  const b = demoBody();
  b.pins = pins;
  change?.(b);
  return b;
};

describe('pin resolver', () => {
  it('a pinned /24 gets its edge with scope /24; the rest of the geo block keeps its answer, never wider than the pin allows', () => {
    assert.deepEqual(answer(demoBody(), '198.51.101.0/24'), { edge: 'lhr', scope: 22 });
    const b = withPins([pin({ action: 1, edge: 'fra', cidr: '198.51.101.0/24' })]);
    assert.deepEqual(answer(b, '198.51.101.0/24'), { edge: 'fra', scope: 24 });
    assert.deepEqual(answer(b, '198.51.101.200/32'), { edge: 'fra', scope: 24 });
    assert.deepEqual(answer(b, '198.51.100.0/24'), { edge: 'lhr', scope: 24 });
    assert.deepEqual(answer(b, '198.51.102.0/24'), { edge: 'lhr', scope: 23 });
  });

  it('the most specific pin wins: longer prefix, then prefix over country, then one service over all, then the newest', () => {
    const b = withPins([
      pin({ action: 1, edge: 'iad', country: 'GB' }),
      pin({ action: 2, edge: 'fra', cidr: '198.51.100.0/22' }),
      pin({ action: 3, edge: 'sin', cidr: '198.51.101.0/24' }),
      pin({ action: 4, edge: 'gru', cidr: '198.51.102.0/24', name: 'www.example.net' }),
      pin({ action: 5, edge: 'syd', cidr: '198.51.102.0/24' }),
      pin({ action: 6, edge: 'iad', cidr: '198.51.103.0/24' }),
      pin({ action: 7, edge: 'lhr', cidr: '198.51.103.0/24' }),
    ]);
    assert.equal(answer(b, '198.51.100.0/24').edge, 'fra', 'the /22 pin over the country pin');
    assert.equal(answer(b, '198.51.101.0/24').edge, 'sin', 'the /24 over the /22');
    assert.equal(answer(b, '198.51.102.0/24').edge, 'gru', "the service's pin over the all-services one");
    assert.equal(answer(b, '198.51.103.0/24').edge, 'lhr', 'then the newest');
    const other = withPins([pin({ action: 1, edge: 'iad', cidr: '198.51.101.0/24', name: 'api.example.net' })]);
    assert.equal(answer(other, '198.51.101.0/24').edge, 'lhr', "another service's pin does not apply");
  });

  it('a country pin beats policy and distance, and a DNS shift does not split it', () => {
    const b = withPins([pin({ action: 1, edge: 'iad', country: 'AU' })], (x) => {
      const iad = x.edges.find((e) => e.name === 'iad')!;
      iad.shiftPercent = 100;
    });
    assert.equal(answer(demoBody(), '203.0.113.0/24').edge, 'syd');
    assert.deepEqual(answer(b, '203.0.113.0/24'), { edge: 'iad', scope: 24 });
  });

  it('a shift of the pinned edge does not move a CIDR pin; a drain suspends it (the answer without the pin)', () => {
    const shifted = withPins([pin({ action: 1, edge: 'lhr', cidr: '198.51.101.0/24' })], (x) => {
      x.edges.find((e) => e.name === 'lhr')!.shiftPercent = 100;
    });
    assert.equal(answer(shifted, '198.51.101.0/24').edge, 'lhr');
    assert.notEqual(answer(shifted, '198.51.100.0/24').edge, 'lhr', 'an unpinned neighbour is shifted');
    const drained = withPins([pin({ action: 1, edge: 'fra', cidr: '198.51.101.0/24' })], (x) => {
      const fra = x.edges.find((e) => e.name === 'fra')!;
      fra.override = 'drain';
      fra.usable = false;
    });
    assert.deepEqual(answer(drained, '198.51.101.0/24'), { edge: 'lhr', scope: 22 });
    const table = buildSteering(drained, geo);
    const e = explainClient(drained, table, geo, { name: 'www.example.net', client: '198.51.101.0/24' })!;
    assert.match(
      e.trace.map((t) => t.detail).join('\n'),
      /pinned by action 1 \(pin 1\), no expiry: 198\.51\.101\.0\/24 → fra suspended: edge fra does not serve/,
    );
  });

  it('explain names the pin: action, reason, expiry', () => {
    const b = withPins([
      pin({
        action: 9,
        edge: 'fra',
        cidr: '198.51.101.0/24',
        reason: 'customer X',
        expiresAt: '2027-01-01T00:00:00.000Z',
      }),
    ]);
    const table = buildSteering(b, geo);
    const e = explainClient(b, table, geo, { name: 'www.example.net', client: '198.51.101.7' })!;
    assert.equal(e.reason, 'pin');
    assert.deepEqual(e.pin, {
      action: 9,
      reason: 'customer X',
      expiresAt: '2027-01-01T00:00:00.000Z',
      cidr: '198.51.101.0/24',
      country: null,
    });
    assert.match(
      e.trace.at(-1)!.detail,
      /^pinned by action 9 \(customer X\), expires 2027-01-01T00:00:00\.000Z: 198\.51\.101\.0\/24 → fra$/,
    );
  });
});
