import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { edgeWatermarks } from '@catchment/core';
import { ENGINE_DEFAULTS, type Proposal, predict } from '../src/index.ts';
import { demoWorld } from './world.ts';

const shift = (percent: number): Proposal => ({
  kind: 'dns-shift',
  edge: 'lhr',
  params: { percent },
  source: 'operator',
});

describe('prediction with watermarks', () => {
  it('a shift moves less when the watermarks give blocks back as the demand falls; without them, the shift alone', () => {
    // lhr at 24000 of 30000 rps, threshold 0.85: between its watermarks (0.68, 0.8075).
    const plain = demoWorld();
    plain.edges.find((e) => e.name === 'lhr')!.loadRps = 24_000;
    const marked = demoWorld();
    const lhr = marked.edges.find((e) => e.name === 'lhr')!;
    lhr.loadRps = 24_000;
    lhr.watermarks = edgeWatermarks(
      { capacityRps: 30_000, loadRps: 24_000, threshold: 0.85 },
      { low: 0.8, high: 0.95 },
      0,
    );
    assert.ok(lhr.watermarks.percent > 0);
    const without = predict(plain, [shift(25)], ENGINE_DEFAULTS).prediction;
    const withMarks = predict(marked, [shift(25)], ENGINE_DEFAULTS).prediction;
    assert.equal(without.movedRps, 6000, '25 % of 24000');
    // After the shift lhr's demand is 18000 (0.6): below the low watermark, so its blocks come back.
    const settledBefore = 24_000 * (1 - lhr.watermarks.percent / 100);
    assert.ok(Math.abs(withMarks.movedRps - (settledBefore - 18_000)) < 1e-6, `${withMarks.movedRps}`);
    assert.ok(withMarks.movedRps < without.movedRps);
    // Below the low watermark the watermarks change nothing.
    lhr.loadRps = 12_000;
    lhr.watermarks = edgeWatermarks(
      { capacityRps: 30_000, loadRps: 12_000, threshold: 0.85 },
      { low: 0.8, high: 0.95 },
      0,
    );
    assert.equal(predict(marked, [shift(25)], ENGINE_DEFAULTS).prediction.movedRps, 3000);
  });
});
