import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  acceptsMovedLoad,
  edgeWatermarks,
  movedPercent,
  type SnapshotBody,
  type SnapshotEdge,
  settledLoadRps,
  watermarkShare,
} from '@catchment/core';
import { demoBody } from '@catchment/testkit/geo-fixtures';
import { cityRecord, writeMmdb } from '@catchment/testkit/mmdb-writer';
import { snapshotEdge } from '@catchment/testkit/snapshots';
import {
  explainClient,
  GeoDb,
  loadTargets,
  parseNetwork,
  SteeringBuilder,
  shiftPosition,
  steeringChanged,
} from '../src/index.ts';

// 128 London /24s, each its own location (so each is one block, one unit of moved clients).
const BLOCKS = Array.from({ length: 128 }, (_, i) => `81.${2 + (i >> 6)}.${(i & 63) * 4}.0/24`);
const dir = mkdtempSync(join(tmpdir(), 'catchment-watermarks-'));
let geo: GeoDb;

before(() => {
  const city = join(dir, 'city.mmdb');
  writeFileSync(
    city,
    writeMmdb(BLOCKS.map((cidr, i) => ({ cidr, data: cityRecord('GB', 'EU', 51.5 + i / 1000, -0.1) }))),
  );
  geo = new GeoDb({ city, watch: false });
});
after(() => {
  geo.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The demo body with lhr loaded so that its watermarks move `percent` % of its blocks. */
function withLhr(percent: number, edit?: (lhr: SnapshotEdge, b: SnapshotBody) => void): SnapshotBody {
  const b = demoBody();
  const lhr = b.edges.find((e) => e.name === 'lhr')!;
  lhr.loadRps = 21_000;
  lhr.utilisation = 0.7;
  lhr.watermarks = { low: 0.68, high: 0.8075, demandRps: 21_000, percent };
  edit?.(lhr, b);
  return b;
}

function answers(b: SnapshotBody, builder = new SteeringBuilder()): Map<string, string | null> {
  const table = builder.build(b, geo);
  return new Map(
    BLOCKS.map((client) => [client, explainClient(b, table, geo, { name: 'www.example.net', client })!.edge]),
  );
}

describe('watermark share (packages/core)', () => {
  it('is zero up to the low watermark and grows monotonically with demand, never carrying the edge to the high one', () => {
    for (const [low, high] of [
      [0.68, 0.8075],
      [0.5, 0.9],
      [0.7, 0.7],
    ] as const) {
      let last = 0;
      for (let d = 0; d <= 3; d += 0.005) {
        const share = watermarkShare(d, low, high);
        assert.ok(share >= last, `monotonic at demand ${d}`);
        assert.ok(share >= 0 && share < 1);
        if (d <= low) assert.equal(share, 0, `nothing moves at demand ${d} ≤ low ${low}`);
        const carried = d * (1 - share);
        assert.ok(carried <= Math.max(d, low) + 1e-12 && (d <= low || carried < high + 1e-12), `carried ${carried}`);
        // NS1's line: between the watermarks the share is linear in the carried utilisation.
        if (d > low && high > low) assert.ok(Math.abs(share - (carried - low) / (high - low)) < 1e-9);
        last = share;
      }
    }
  });

  it('estimates the demand from the share in effect when the load was measured; unknown load moves nothing', () => {
    const e = { capacityRps: 1000, loadRps: 700, threshold: 0.85 };
    const marks = { low: 0.8, high: 0.95 };
    const now = edgeWatermarks(e, marks, 0);
    assert.equal(now.low, 0.8 * 0.85);
    assert.equal(now.high, 0.95 * 0.85);
    assert.equal(now.demandRps, 700);
    assert.equal(now.percent, Math.floor(100 * watermarkShare(0.7, now.low, now.high)));
    // The same 700 rps measured while 20 % were answered elsewhere: a demand of 875.
    const later = edgeWatermarks(e, marks, 20);
    assert.equal(later.demandRps, 875);
    assert.ok(later.percent > now.percent);
    assert.deepEqual(edgeWatermarks({ ...e, loadRps: null }, marks, 30), {
      low: now.low,
      high: now.high,
      demandRps: null,
      percent: 0,
    });
    let last = 0;
    for (let rps = 0; rps <= 2000; rps += 10) {
      const p = edgeWatermarks({ ...e, loadRps: rps }, marks, 0).percent;
      assert.ok(p >= last, `percent monotonic in load at ${rps}`);
      last = p;
    }
  });

  it('combines with a DNS shift on one threshold, and settles after a change', () => {
    const e = snapshotEdge('lhr', { shiftPercent: 20, watermarks: { low: 0.6, high: 0.8, demandRps: 1, percent: 50 } });
    assert.equal(movedPercent(e), 60, 'the watermarks move half of what the shift leaves');
    assert.equal(movedPercent({ ...e, shiftPercent: 0 }), 50);
    assert.equal(movedPercent({ ...e, watermarks: undefined }), 20);
    // 700 rps measured with nothing moved, demand 700 of 1000: halving its demand lets the
    // watermarks give their blocks back, so the edge sheds less than the half.
    const w = edgeWatermarks({ capacityRps: 1000, loadRps: 700, threshold: 1 }, { low: 0.6, high: 0.8 }, 0);
    const edge = { capacityRps: 1000, watermarks: w };
    const before = settledLoadRps(edge, 700, 700);
    assert.ok(before < 700, 'the watermarks move some blocks already');
    assert.equal(settledLoadRps(edge, 700, 350), 350, 'below the low watermark nothing moves');
    assert.equal(settledLoadRps({ capacityRps: 1000 }, 700, 350), 350, 'without watermarks: the change alone');
  });

  it('sends no moved block to an edge at or above its high watermark', () => {
    const marks = { low: 0.68, high: 0.8, demandRps: 100, percent: 0 };
    const edges = [
      snapshotEdge('src', { loadRps: 900, capacityRps: 1000 }),
      snapshotEdge('a', { loadRps: 810, watermarks: marks }),
      snapshotEdge('b', { loadRps: 500, watermarks: marks }),
      snapshotEdge('c', { loadRps: 790, watermarks: marks }),
    ];
    assert.equal(acceptsMovedLoad(edges[1]!), false);
    assert.deepEqual(
      loadTargets(edges, edges[0]!, 0).map((e) => e.name),
      ['b', 'c'],
    );
  });
});

describe('watermark spreading in the answer tables', () => {
  it('moves a share of the blocks that grows with the load; a block keeps its answer until the share crosses it', () => {
    const base = answers(withLhr(0));
    assert.ok(
      [...base.values()].every((e) => e === 'lhr'),
      'below the low watermark every block gets lhr',
    );
    const builder = new SteeringBuilder();
    let moved = new Set<string>();
    for (const percent of [0, 5, 10, 20, 35, 50, 70, 90, 99]) {
      const now = answers(withLhr(percent), builder);
      const movedNow = new Set([...now].filter(([, e]) => e !== 'lhr').map(([c]) => c));
      for (const c of moved) assert.ok(movedNow.has(c), `${c} stays moved at ${percent} %`);
      // Exactly the blocks whose position is below the share: stable per client block.
      for (const c of BLOCKS) {
        const n = parseNetwork(c)!;
        const below = shiftPosition(n.bytes, n.length, { name: 'lhr' }) < percent / 100;
        assert.equal(movedNow.has(c), below, `${c} at ${percent} %`);
      }
      // The targets are the ones DNS shifts use: the nearest edges with headroom.
      for (const c of movedNow) assert.ok(['fra', 'iad'].includes(now.get(c) ?? ''), `${c} → ${now.get(c)}`);
      assert.ok(Math.abs(movedNow.size / BLOCKS.length - percent / 100) < 0.15, `${movedNow.size} at ${percent} %`);
      moved = movedNow;
    }
    // The incremental builder gives what a fresh one gives.
    assert.deepEqual(answers(withLhr(50), builder), answers(withLhr(50)));
  });

  it('explains the watermark step', () => {
    const b = withLhr(40);
    const table = new SteeringBuilder().build(b, geo);
    const all = BLOCKS.map((client) => explainClient(b, table, geo, { name: 'www.example.net', client })!);
    const moved = all.find((e) => e.edge !== 'lhr')!;
    const stays = all.find((e) => e.edge === 'lhr')!;
    assert.equal(moved.reason, 'watermark');
    const step = moved.trace.find((s) => s.step === 'watermark');
    assert.match(
      step?.detail ?? '',
      /^lhr at utilisation 0\.70 \(demand 0\.70\), watermarks 0\.68-0\.81: 40% of its client blocks move to the next-best edges; this block goes to (fra|iad)$/,
    );
    assert.match(stays.trace.find((s) => s.step === 'watermark')?.detail ?? '', /this block stays$/);
    assert.equal(stays.reason, 'nearest');
    const calm = withLhr(0, (lhr) => {
      lhr.loadRps = 9000;
      lhr.utilisation = 0.3;
      lhr.watermarks = { ...lhr.watermarks!, demandRps: 9000 };
    });
    const quiet = explainClient(calm, new SteeringBuilder().build(calm, geo), geo, {
      name: 'www.example.net',
      client: BLOCKS[0]!,
    })!;
    assert.equal(
      quiet.trace.find((t) => t.step === 'watermark')?.detail,
      'lhr at utilisation 0.30 (demand 0.30), watermarks 0.68-0.81: no block moves (at or below the low watermark)',
    );
  });

  it('only load changes that change an answer are worth a publication', () => {
    const quiet = (rps: number, percent: number) =>
      withLhr(percent, (lhr) => {
        lhr.loadRps = rps;
        lhr.utilisation = rps / lhr.capacityRps;
        lhr.watermarks = { ...lhr.watermarks!, demandRps: rps };
      });
    assert.equal(steeringChanged(quiet(10_000, 0), quiet(12_000, 0)), false, 'below the low watermark');
    assert.equal(steeringChanged(quiet(12_000, 0), quiet(21_000, 3)), true, 'into the band');
    assert.equal(
      steeringChanged(quiet(21_000, 3), quiet(21_100, 3)),
      true,
      'while blocks move, loads weigh the targets',
    );
    assert.equal(
      steeringChanged(
        quiet(10_000, 0),
        withLhr(0, (lhr, b) => {
          lhr.loadRps = 11_000;
          b.edges[0]!.loadRps = 5;
        }),
      ),
      false,
    );
  });
});
