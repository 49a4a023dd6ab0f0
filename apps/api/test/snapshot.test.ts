import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger, type Snapshot, SnapshotFollower, sealSnapshot, verifySnapshot } from '@catchment/core';
import { type Database, openDatabase, schema } from '@catchment/db';
import { DB_MODES, freshPostgresUrl, tempDir } from '@catchment/testkit';
import { startApi } from '../src/index.ts';
import { buildWorld, startTestApi, type TestApi } from './helpers.ts';

for (const mode of DB_MODES) {
  describe(`snapshot distribution on ${mode}`, () => {
    let t: TestApi;
    const seen: Snapshot[] = [];
    before(async () => {
      t = await startTestApi(mode, { pollMs: 50, onSnapshot: (s) => seen.push(s) });
    });
    after(() => t.close());

    it('answers NO_SNAPSHOT before the first publication, then the latest with ETag and 304s', async () => {
      const none = await t.call('GET', '/v1/snapshot', { token: t.tokens.agent });
      assert.equal(none.status, 404);
      assert.equal(none.body.code, 'NO_SNAPSHOT');
      await buildWorld(t);
      const latest = await t.call('GET', '/v1/snapshot', { token: t.tokens.agent });
      assert.equal(latest.status, 200);
      const snap = verifySnapshot(latest.body);
      assert.equal(latest.headers.get('etag'), `"${snap.version}"`);
      assert.equal(seen.at(-1)?.version, snap.version, 'the in-process hook saw the publication');
      const same = await t.call('GET', '/v1/snapshot', {
        token: t.tokens.agent,
        headers: { 'if-none-match': `"${snap.version}"` },
      });
      assert.equal(same.status, 304);
      const since = await t.call('GET', `/v1/snapshot?since=${snap.version}&wait=0`, { token: t.tokens.agent });
      assert.equal(since.status, 304);
      const older = await t.call('GET', `/v1/snapshot?since=${snap.version - 1}`, { token: t.tokens.agent });
      assert.equal(older.body.version, snap.version);
      const one = await t.call('GET', '/v1/snapshot/1', { token: t.tokens.agent });
      assert.equal(one.status, 200);
      assert.equal(verifySnapshot(one.body).version, 1);
      assert.equal(
        (await t.call('GET', '/v1/snapshot/1', { token: t.tokens.agent, headers: { 'if-none-match': '"1"' } })).status,
        304,
      );
      assert.equal((await t.call('GET', '/v1/snapshot/99999', { token: t.tokens.agent })).status, 404);
    });

    it('long-poll: a waiter on since=N gets N+1 as soon as it is published', async (ctx) => {
      const n = (await t.call('GET', '/v1/snapshot')).body.version as number;
      const started = Date.now();
      const waiting = t
        .call('GET', `/v1/snapshot?since=${n}&wait=30`, { token: t.tokens.agent })
        .then((r) => ({ r, at: Date.now() }));
      await new Promise((res) => setTimeout(res, 200));
      const drained = await t.call('POST', '/v1/edges/lhr/drain', { body: { reason: 'long-poll test' } });
      const publishedAt = Date.now();
      assert.equal(drained.body.snapshotVersion, n + 1);
      const { r, at } = await waiting;
      assert.equal(r.status, 200);
      assert.equal(r.body.version, n + 1);
      assert.ok(at - started < 30_000, 'answered before the long-poll expired');
      ctx.diagnostic(`long-poll answered ${at - publishedAt} ms after the publishing request returned`);

      // Many consumers waiting at once all get the new version.
      const many = Array.from({ length: 20 }, () =>
        t.call('GET', `/v1/snapshot?since=${n + 1}&wait=30`, { token: t.tokens.agent }),
      );
      await new Promise((res) => setTimeout(res, 300));
      await t.call('POST', '/v1/edges/lhr/undrain', { body: { reason: 'wake them all' } });
      for (const w of await Promise.all(many)) assert.equal(w.body.version, n + 2);
      await t.call('POST', '/v1/edges/lhr/drain', { body: { reason: 'back to the state below' } });
      const m = (await t.call('GET', '/v1/snapshot')).body.version as number;

      // A version published by another process (a row written directly) wakes waiters by the poll.
      const external = t.call('GET', `/v1/snapshot?since=${m}&wait=30`, { token: t.tokens.agent });
      await new Promise((res) => setTimeout(res, 100));
      const body = { ...(r.body as Snapshot).body, automation: { frozen: true, frozenEdges: [] } };
      const sealed = sealSnapshot(m + 1, body);
      await t.database.db.insert(schema.snapshots).values({
        version: sealed.version,
        checksum: sealed.checksum,
        body: sealed.body,
        createdBy: 'another-process',
        createdAt: new Date(sealed.createdAt),
      });
      const ext = await external;
      assert.equal(ext.status, 200);
      assert.equal(verifySnapshot(ext.body).version, m + 1);
      assert.equal(seen.at(-1)?.version, m + 1);
      await t.call('POST', '/v1/edges/lhr/undrain', { body: { reason: 'done' } });
    });

    it('explains with the embedded country database when no GeoIP files are configured', async () => {
      const r = await t.call('GET', '/v1/explain?name=www.example.net&client=81.2.69.142');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.decision.service, 'www.example.net');
      assert.ok(r.body.decision.trace.length > 0);
    });

    it('the core SnapshotFollower follows the API version by version', async () => {
      const dir = await tempDir('catchment-follow-');
      const follower = new SnapshotFollower({
        apiUrl: t.url,
        token: t.tokens.agent,
        cacheFile: `${dir.path}/snapshot.json`,
        waitSeconds: 10,
        logger: createLogger('follower'),
      });
      try {
        const first = new Promise<Snapshot>((res) => follower.once('snapshot', res));
        await follower.start();
        const latest = (await t.call('GET', '/v1/snapshot')).body.version;
        assert.equal((follower.current() ?? (await first)).version, latest);
        const next = new Promise<Snapshot>((res) => follower.once('snapshot', res));
        await t.call('POST', '/v1/edges/sin/freeze', { body: { reason: 'follower test' } });
        assert.equal((await next).version, latest + 1);
      } finally {
        await follower.stop();
        await dir.remove();
      }
    });

    it('reports feed the consumers view, edge loads and the metrics', async () => {
      const latest = (await t.call('GET', '/v1/snapshot')).body.version as number;
      const dns = await t.call('POST', '/v1/reports', {
        token: t.tokens.agent,
        body: { consumer: 'dns-1', kind: 'dns', snapshotVersion: latest - 1, healthy: true, details: { qps: 10 } },
      });
      assert.equal(dns.status, 202);
      assert.equal(dns.body.latestVersion, latest);
      await t.call('POST', '/v1/reports', {
        token: t.tokens.agent,
        body: {
          consumer: 'edge-fra',
          edge: 'fra',
          kind: 'edge',
          snapshotVersion: latest,
          healthy: false,
          load: { rps: 50000 },
        },
      });
      // A DNS server's traffic model (packages/core DnsLoadReport) is kept as sent.
      const model = { windowSeconds: 60, answers: [{ block: '81.2.69.0/24', edge: 'lhr', count: 12 }] };
      const dnsModel = await t.call('POST', '/v1/reports', {
        token: t.tokens.agent,
        body: { consumer: 'dns-2', kind: 'dns', snapshotVersion: latest, healthy: true, load: model },
      });
      assert.equal(dnsModel.status, 202, dnsModel.text);
      const view = await t.call('GET', '/v1/consumers');
      assert.deepEqual(view.body.items.find((c: { name: string }) => c.name === 'dns-2').load, model);
      assert.equal(view.status, 200);
      assert.equal(view.body.latestVersion, latest);
      const byName = Object.fromEntries(view.body.items.map((c: { name: string }) => [c.name, c]));
      assert.equal(byName['dns-1'].lag, 1);
      assert.equal(byName['edge-fra'].lag, 0);
      assert.equal(byName['edge-fra'].healthy, false);
      const edges = (await t.call('GET', '/v1/consumers?kind=edge')).body.items;
      assert.deepEqual(
        edges.map((c: { name: string }) => c.name),
        ['edge-fra'],
      );
      const page = await t.call('GET', '/v1/consumers?limit=1');
      assert.equal(page.body.items.length, 1);
      const rest = await t.call('GET', `/v1/consumers?limit=1&cursor=${page.body.nextCursor}`);
      assert.notEqual(rest.body.items[0].name, page.body.items[0].name);

      // The load lands in the next compiled snapshot.
      await t.call('POST', '/v1/edges/sin/unfreeze', { body: { reason: 'next version' } });
      const fra = (await t.call('GET', '/v1/snapshot')).body.body.edges.find((e: { name: string }) => e.name === 'fra');
      assert.equal(fra.loadRps, 50000);
      assert.equal(fra.utilisation, 0.5);

      const metrics = await t.call('GET', '/metrics', { token: t.tokens.viewer });
      assert.equal(metrics.status, 200);
      // Lag is against the latest version at scrape time: dns-1 reported latest - 1, one more was published since.
      assert.match(metrics.text, /catchment_consumer_lag_versions\{consumer="dns-1",kind="dns"\} 2/);
      assert.match(metrics.text, new RegExp(`catchment_snapshot_version ${latest + 1}`));
      assert.match(
        metrics.text,
        /catchment_api_requests_total\{route="\/v1\/consumers",method="GET",status="200"\} \d+/,
      );
      assert.match(metrics.text, /catchment_api_request_duration_seconds_bucket/);
    });
  });

  describe(`shutdown on ${mode}`, () => {
    it('closing the API ends long-polls in flight (304) instead of waiting them out', async () => {
      const t = await startTestApi(mode);
      try {
        await buildWorld(t);
        const v = (await t.call('GET', '/v1/snapshot')).body.version;
        const waiting = t.call('GET', `/v1/snapshot?since=${v}&wait=300`, { token: t.tokens.agent });
        await new Promise((r) => setTimeout(r, 200));
        const closing = t.api.close();
        const r = await waiting;
        assert.equal(r.status, 304);
        await closing;
      } finally {
        await t.close();
      }
    });
  });

  describe(`health on ${mode}`, () => {
    it('/readyz is ready when migrated, 503 NOT_MIGRATED before, 503 DB_UNREACHABLE when the database is gone', async () => {
      const url = mode === 'postgres' ? await freshPostgresUrl() : undefined;
      const database: Database = await openDatabase({ url, dataDir: 'memory' });
      const api = await startApi({ database, port: 0 });
      try {
        const notMigrated = await fetch(`${api.url}/readyz`);
        assert.equal(notMigrated.status, 503);
        assert.equal(((await notMigrated.json()) as { code: string }).code, 'NOT_MIGRATED');
        const { migrate } = await import('@catchment/db');
        await migrate(database);
        const ready = await fetch(`${api.url}/readyz`);
        assert.equal(ready.status, 200);
        assert.equal(((await ready.json()) as { database: string }).database, mode);
        assert.equal((await fetch(`${api.url}/healthz`)).status, 200);
        await database.close();
        const gone = await fetch(`${api.url}/readyz`);
        assert.equal(gone.status, 503);
        assert.equal(((await gone.json()) as { code: string }).code, 'DB_UNREACHABLE');
        assert.equal((await fetch(`${api.url}/healthz`)).status, 200, 'liveness does not depend on the database');
      } finally {
        await api.close();
        await database.close().catch(() => {});
      }
    });
  });
}
