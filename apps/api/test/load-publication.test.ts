import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@catchment/core';
import { DB_MODES } from '@catchment/testkit';
import { until } from '@catchment/testkit/wait';
import { LoadPublisher } from '../src/load-publication.ts';
import { buildWorld, startTestApi, type TestApi } from './helpers.ts';

const logger = createLogger('test');

describe('load publisher: bounded rate, coalesced', () => {
  it('runs one check for a burst of reports, the next one an interval later, and one after the stale bound', async () => {
    let checks = 0;
    const p = new LoadPublisher(
      async () => {
        checks++;
      },
      logger,
      { intervalMs: 50, staleMs: 0 },
    );
    try {
      for (let i = 0; i < 100; i++) p.reported();
      await p.idle();
      assert.equal(checks, 1, 'a burst of reports: one check');
      for (let i = 0; i < 100; i++) p.reported();
      await p.idle();
      assert.equal(checks, 2, 'the next burst: one more, after the interval');
      // Nothing reported since: one check once the last report's load has gone stale.
      await until('the stale check', () => checks === 3, 10_000, 20);
    } finally {
      p.close();
    }
  });

  it('a failing check is logged and does not stop the next one', async () => {
    let checks = 0;
    const p = new LoadPublisher(
      async () => {
        checks++;
        throw new Error('database away');
      },
      logger,
      { intervalMs: 10, staleMs: 60_000 },
    );
    try {
      p.reported();
      await p.idle();
      p.reported();
      await p.idle();
      assert.equal(checks, 2);
    } finally {
      p.close();
    }
  });
});

for (const mode of DB_MODES) {
  describe(`load reports publish what DNS would answer differently (${mode})`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode);
      await buildWorld(t);
    });
    after(() => t.close());

    const report = async (rps: number) => {
      const r = await t.call('POST', '/v1/reports', {
        token: t.tokens.agent,
        body: { consumer: 'lhr', kind: 'edge', snapshotVersion: null, healthy: true, load: { rps } },
      });
      assert.equal(r.status, 202, r.text);
      await t.api.app.catchment.loads?.idle();
      return (await t.call('GET', '/v1/snapshot')).body;
    };
    const lhr = (snap: { body: { edges: { name: string }[] } }) =>
      snap.body.edges.find((e) => e.name === 'lhr') as unknown as { loadRps: number; watermarks: { percent: number } };

    it('publishes nothing for a load that changes no answer, and publishes one that does', async () => {
      const v0 = (await t.call('GET', '/v1/snapshot')).body.version;
      const quiet = await report(9000);
      assert.equal(quiet.version, v0, 'lhr at 0.3: below its low watermark, no publication');
      const busy = await report(24_000);
      assert.equal(busy.version, v0 + 1, 'lhr at 0.8: a load-only publication');
      assert.equal(lhr(busy).loadRps, 24_000);
      assert.ok(lhr(busy).watermarks.percent > 0);
    });

    it("an edge's own watermarks: set through the API, compiled into the snapshot, refused when low > high", async () => {
      const got = await t.call('GET', '/v1/edges/lhr');
      const put = await t.call('PUT', '/v1/edges/lhr', { body: { ...got.body, watermarks: { low: 0.5, high: 0.6 } } });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual((await t.call('GET', '/v1/edges/lhr')).body.watermarks, { low: 0.5, high: 0.6 });
      const snap = (await t.call('GET', '/v1/snapshot')).body;
      const w = lhr(snap).watermarks as unknown as { low: number; high: number };
      assert.deepEqual([w.low, w.high], [0.5 * 0.85, 0.6 * 0.85]);
      const bad = await t.call('PUT', '/v1/edges/lhr', { body: { ...got.body, watermarks: { low: 0.7, high: 0.6 } } });
      assert.equal(bad.status, 422, bad.text);
      assert.equal(bad.body.code, 'WATERMARKS_INVALID');
      assert.equal(bad.body.errors[0].path, '/watermarks/low');
    });

    it('with load-only publications off, a report waits for another change', async () => {
      const off = await startTestApi(mode, { loadPublication: null });
      try {
        await buildWorld(off);
        const v0 = (await off.call('GET', '/v1/snapshot')).body.version;
        const r = await off.call('POST', '/v1/reports', {
          token: off.tokens.agent,
          body: { consumer: 'lhr', kind: 'edge', snapshotVersion: null, healthy: true, load: { rps: 24_000 } },
        });
        assert.equal(r.status, 202);
        assert.equal(off.api.app.catchment.loads, undefined);
        assert.equal((await off.call('GET', '/v1/snapshot')).body.version, v0);
      } finally {
        await off.close();
      }
    });
  });
}
