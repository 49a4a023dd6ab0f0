import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createToken, startApi } from '@catchment/api';
import { ANYCAST, byEdge, byOutcome, type ConnectionRecord, Traffic, TrafficLab } from '@catchment/testkit/traffic-lab';
import { buildBpf } from '../../../edge/src/xdp/index.ts';

/**
 * Traffic truth: real clients in namespaces resolve the service through an ECS-sending
 * unbound and connect to real HTTP servers on the edges, over two BIRD transits; every
 * assertion is about what the connections did. One lab for the whole file.
 */
let lab: TrafficLab;

function summary(records: ConnectionRecord[]): string {
  return JSON.stringify({ edges: byEdge(records), outcomes: byOutcome(records) });
}

async function drive(region: string, opts: Parameters<typeof Traffic.start>[2]): Promise<ConnectionRecord[]> {
  return Traffic.start(lab.net, region, opts).done();
}

describe('traffic lab', { concurrency: false }, () => {
  before(async () => {
    const bpf = await buildBpf();
    lab = await TrafficLab.start({ api: { startApi, createToken }, bpf });
  });
  after(async () => {
    await lab?.stop();
  });

  test('steady state: each region lands at its nearest edge, answers follow ECS', async () => {
    const expected: Record<string, string> = { de: 'fra', gb: 'lhr', us: 'iad', br: 'gru' };
    const runs = await Promise.all(
      Object.keys(expected).map(
        async (region) => [region, await drive(region, { rate: 20, durationMs: 2000 })] as const,
      ),
    );
    for (const [region, records] of runs) {
      const edges = byEdge(records);
      assert.ok(records.length >= 30, `${region}: ${summary(records)}`);
      assert.deepEqual(edges, { [expected[region]!]: records.length }, `${region}: ${summary(records)}`);
      assert.deepEqual(byOutcome(records), { completed: records.length });
    }
    // The anycast address: each region lands where its transit's best path leads.
    const anycast: Record<string, string> = { de: 'fra', gb: 'fra', us: 'iad', br: 'iad' };
    const any = await Promise.all(
      Object.keys(anycast).map(
        async (region) => [region, await drive(region, { rate: 20, durationMs: 1000, target: ANYCAST })] as const,
      ),
    );
    for (const [region, records] of any) {
      assert.deepEqual(
        byEdge(records),
        { [anycast[region]!]: records.length },
        `${region} anycast: ${summary(records)}`,
      );
    }
  });
});
