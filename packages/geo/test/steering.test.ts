import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SnapshotBody } from '@catchment/core';
import { sealSnapshot } from '@catchment/core';
import { demoBody } from '@catchment/testkit/geo-fixtures';
import { cityRecord, writeMmdb } from '@catchment/testkit/mmdb-writer';
import { buildSteering, createExplainer, explainClient, GeoDb } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'catchment-steer-'));
let geo: GeoDb;
let flat: GeoDb;

before(() => {
  const city = join(dir, 'city.mmdb');
  const asn = join(dir, 'asn.mmdb');
  const london = cityRecord('GB', 'EU', 51.5, -0.1);
  writeFileSync(
    city,
    writeMmdb([
      // Two halves with the same location: one block /24 after merging.
      { cidr: '192.0.2.0/25', data: london },
      { cidr: '192.0.2.128/26', data: london },
      { cidr: '192.0.2.192/26', data: cityRecord('GB', 'EU', 51.6, -0.2) },
      { cidr: '198.51.100.0/24', data: cityRecord('DE', 'EU', 50.1, 8.6) },
      { cidr: '203.0.113.0/24', data: cityRecord('NZ', 'OC', -36.8, 174.7) },
      { cidr: '11.0.0.0/8', data: cityRecord('US', 'NA', 38.9, -77.0) },
      { cidr: '12.0.0.0/16', data: cityRecord('CN', 'AS', 39.9, 116.4) },
      { cidr: '13.0.0.0/8', data: cityRecord('US', 'NA', 37.7, -122.4) },
      { cidr: '2001:db8:1::/48', data: cityRecord('DE', 'EU', 50.1, 8.6) },
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

function body(edit?: (b: SnapshotBody) => void): SnapshotBody {
  const b = demoBody();
  b.policies[0]!.rules.push(
    { match: { cidr: '198.51.100.0/24' }, edges: ['syd'] },
    { match: { cidr: '198.51.100.128/25' }, edges: ['gru'] },
    { match: { asn: 64501 }, edges: ['fra'] },
  );
  edit?.(b);
  return b;
}

function ask(b: SnapshotBody, db: GeoDb, client: string) {
  const e = explainClient(b, buildSteering(b, db), db, { name: 'www.example.net', client });
  assert.ok(e);
  return e;
}

describe('edge choice and merged blocks', () => {
  it('merges adjacent networks with the same answer and returns the block as scope', () => {
    const e = ask(body(), geo, '192.0.2.77/32');
    assert.equal(e.edge, 'lhr');
    assert.equal(e.block, '192.0.2.0/24', 'three networks, one answer: one /24 block');
    assert.equal(e.scope, 24);
    assert.equal(ask(body(), geo, '192.0.2.0/24').scope, 24);
    assert.equal(ask(body(), geo, '192.0.2.0/16').scope, 16, 'clamped to the source prefix');
  });

  it('falls back to anycast for misses and private ranges, with the covering block and never /0', () => {
    const priv = ask(body(), geo, '10.9.8.0/24');
    assert.equal(priv.edge, null);
    assert.deepEqual(priv.addresses.v4, ['198.18.0.1']);
    assert.equal(priv.block, '10.0.0.0/8');
    for (const c of ['1.2.3.4', '200.1.1.1', '2a00::1', '::1', '0.0.0.1']) {
      assert.ok(ask(body(), geo, c).scope > 0, `${c} has a non-zero scope`);
    }
  });

  it('applies CIDR (longest), ASN, country and continent rules before distance', () => {
    assert.equal(ask(body(), geo, '198.51.100.1').edge, 'syd', 'CIDR /24 rule');
    assert.equal(ask(body(), geo, '198.51.100.200').edge, 'gru', 'longer CIDR /25 rule wins');
    assert.equal(ask(body(), geo, '13.1.1.1').edge, 'fra', 'ASN rule');
    assert.equal(ask(body(), geo, '12.0.1.1').edge, 'sin', 'country rule');
    const nz = ask(body(), geo, '203.0.113.5');
    assert.equal(nz.edge, 'syd', 'continent rule');
    assert.equal(nz.reason, 'rule');
    assert.equal(ask(body(), geo, '11.2.3.4').edge, 'iad', 'nearest by distance');
    assert.equal(ask(body(), geo, '2001:db8:1::1').edge, 'fra', 'IPv6');
  });

  it('skips unusable and full edges, and says why', () => {
    const down = ask(
      body((b) => {
        const lhr = b.edges.find((e) => e.name === 'lhr')!;
        lhr.usable = false;
        lhr.override = 'force-down';
      }),
      geo,
      '192.0.2.1',
    );
    assert.equal(down.edge, 'fra');
    assert.ok(down.trace.some((t) => t.step === 'skip' && t.detail.includes('lhr not usable')));
    const full = ask(
      body((b) => {
        // Headroom is core's rule on the reported load against the edge's threshold.
        const lhr = b.edges.find((e) => e.name === 'lhr')!;
        lhr.loadRps = lhr.capacityRps * 1.2;
        lhr.utilisation = 1.2;
      }),
      geo,
      '192.0.2.1',
    );
    assert.equal(full.edge, 'fra');
    assert.ok(full.trace.some((t) => t.detail.includes('no headroom')));
    const ruleDown = ask(
      body((b) => {
        b.edges.find((e) => e.name === 'sin')!.usable = false;
      }),
      geo,
      '12.0.1.1',
    );
    assert.notEqual(ruleDown.edge, 'sin', 'a rule whose edges are all down falls through to distance');
    const none = ask(
      body((b) => {
        for (const e of b.edges) e.usable = false;
      }),
      geo,
      '192.0.2.1',
    );
    assert.equal(none.edge, null, 'no usable edge: anycast');
  });

  it('shifts N % of an edge deterministically, monotonically, spread by headroom', () => {
    const withShift = (percent: number) =>
      body((b) => {
        b.edges.find((e) => e.name === 'iad')!.shiftPercent = percent;
      });
    const clients = Array.from({ length: 512 }, (_, i) => `8.${i >> 4}.${(i & 15) * 16}.0/24`);
    const answers = (b: SnapshotBody) => {
      const table = buildSteering(b, flat);
      return clients.map((c) => explainClient(b, table, flat, { name: 'www.example.net', client: c })!.edge);
    };
    const base = answers(withShift(0));
    const iadClients = base.filter((e) => e === 'iad').length;
    assert.ok(iadClients > 400, 'these US blocks go to iad');
    const s30 = answers(withShift(30));
    const s60 = answers(withShift(60));
    assert.deepEqual(answers(withShift(30)), s30, 'same snapshot, same answers');
    const moved30 = s30.filter((e, i) => base[i] === 'iad' && e !== 'iad').length;
    const moved60 = s60.filter((e, i) => base[i] === 'iad' && e !== 'iad').length;
    assert.ok(moved30 > 0.15 * iadClients && moved30 < 0.45 * iadClients, `30 % moved ${moved30}/${iadClients}`);
    assert.ok(moved60 > moved30);
    s30.forEach((e, i) => {
      if (base[i] === 'iad' && e !== 'iad') assert.notEqual(s60[i], 'iad', 'raising the shift only adds blocks');
    });
    const targets = new Map<string, number>();
    for (const [i, e] of s60.entries())
      if (base[i] === 'iad' && e !== 'iad') targets.set(e!, (targets.get(e!) ?? 0) + 1);
    assert.ok(targets.size >= 3, `spread over several targets: ${[...targets].join(' ')}`);
    assert.ok((targets.get('fra') ?? 0) > (targets.get('syd') ?? 0), 'more to the edge with more headroom');
    const e = explainClient(withShift(60), buildSteering(withShift(60), flat), flat, {
      name: 'www.example.net',
      client: clients[s60.findIndex((x, i) => base[i] === 'iad' && x !== 'iad')]!,
    })!;
    assert.equal(e.reason, 'shift');
    assert.ok(e.trace.some((t) => t.step === 'shift'));
  });

  it('with a known load, shifted clients go to the nearest edges with room for them, never one', () => {
    const b = body((x) => {
      const iad = x.edges.find((e) => e.name === 'iad')!;
      iad.shiftPercent = 30;
      iad.loadRps = 60_000; // 18 000 rps shifted: lhr (30 000 spare) and fra, the next nearest, take it
    });
    const table = buildSteering(b, flat);
    const clients = Array.from({ length: 512 }, (_, i) => `8.${i >> 4}.${(i & 15) * 16}.0/24`);
    const shiftedTo = new Set(
      clients
        .map((c) => explainClient(b, table, flat, { name: 'www.example.net', client: c })!)
        .filter((e) => e.reason === 'shift')
        .map((e) => e.edge),
    );
    assert.deepEqual([...shiftedTo].sort(), ['fra', 'lhr']);
  });

  it('answers public resolvers without ECS with the anycast fallback', () => {
    const b = body();
    const e = explainClient(b, buildSteering(b, flat), flat, { name: 'www.example.net', resolver: '8.8.8.8' })!;
    assert.equal(e.reason, 'public-resolver');
    assert.equal(e.edge, null);
    const r = explainClient(b, buildSteering(b, flat), flat, { name: 'www.example.net', resolver: '8.8.4.0' })!;
    assert.equal(r.source, 'resolver');
  });
});

describe('createExplainer (the API seam)', () => {
  it('explains steered names and says when a name is not steered', () => {
    const explain = createExplainer(geo);
    const snap = sealSnapshot(3, body());
    const e = explain(snap, { name: 'www.example.net', client: '192.0.2.0/24' });
    assert.equal(e.service, 'www.example.net');
    assert.equal('edge' in e ? e.edge : undefined, 'lhr');
    const other = explain(snap, { name: 'mail.example.net', resolver: '192.0.2.1' });
    assert.equal(other.service, null);
  });
});
