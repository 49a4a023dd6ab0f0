import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Database, migrate, openDatabase } from '@catchment/db';
import { DB_MODES, type PostgresCluster, startPostgres } from '@catchment/testkit';
import { createToken, startApi } from '../src/index.ts';
import { buildWorld, getFrom, type TestApi } from './helpers.ts';

/**
 * The database goes away under a running API: routes that need it answer 503 DB_UNREACHABLE
 * with Retry-After; snapshots (and long-polls) keep being served from memory, to consumers
 * already running and to new ones.
 */
for (const mode of DB_MODES) {
  describe(`database outage on ${mode}`, () => {
    let cluster: PostgresCluster | undefined;
    let database: Database;
    let t: TestApi;
    let unused: string;
    let version: number;

    before(async () => {
      if (mode === 'postgres') cluster = await startPostgres();
      database = await openDatabase({ url: await cluster?.createDatabase(), dataDir: 'memory' });
      await migrate(database);
      const tokens = {} as TestApi['tokens'];
      for (const role of ['viewer', 'operator', 'admin', 'agent'] as const) {
        tokens[role] = (await createToken(database.db, { name: `test-${role}`, role })).token;
      }
      unused = (await createToken(database.db, { name: 'never-used', role: 'agent' })).token;
      const api = await startApi({ database, port: 0, pollMs: 50 });
      t = {
        api,
        database,
        url: api.url,
        tokens,
        async call(method, path, o = {}) {
          const headers: Record<string, string> = { ...(o.headers ?? {}) };
          const token = o.token === undefined ? tokens.admin : o.token;
          if (token) headers.authorization = `Bearer ${token}`;
          if (o.body !== undefined) headers['content-type'] = 'application/json';
          const res = await fetch(`${api.url}${path}`, {
            method,
            headers,
            body: o.body === undefined ? undefined : JSON.stringify(o.body),
          });
          const text = await res.text();
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {}
          return { status: res.status, headers: res.headers, body: body as never, text };
        },
        close: async () => {},
      };
      await buildWorld(t);
      const first = await t.call('GET', '/v1/snapshot', { token: t.tokens.agent });
      assert.equal(first.status, 200);
      version = first.body.version;
      assert.equal((await t.call('GET', '/v1/edges', { token: t.tokens.viewer })).status, 200);
      // The database goes away: a stopped server, or a closed embedded database.
      if (cluster) await cluster.stop();
      else await database.close();
    });
    after(async () => {
      await t.api.close();
      await database.close().catch(() => {});
      await cluster?.stop().catch(() => {});
    });

    it('routes that need the database answer 503 DB_UNREACHABLE with Retry-After', async () => {
      for (const [method, path, body] of [
        ['GET', '/v1/edges', undefined],
        ['GET', '/v1/audit', undefined],
        ['POST', '/v1/edges/lhr/drain', { reason: 'outage test' }],
        ['POST', '/v1/reports', { consumer: 'dns-a', kind: 'dns', snapshotVersion: version, healthy: true }],
      ] as const) {
        const r = await t.call(method, path, { body, token: path === '/v1/reports' ? t.tokens.agent : undefined });
        assert.equal(r.status, 503, `${method} ${path}: ${r.text}`);
        assert.equal(r.body.code, 'DB_UNREACHABLE', `${method} ${path}`);
        assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
        assert.ok(Number(r.headers.get('retry-after')) >= 1, `${method} ${path}: Retry-After`);
      }
      // A token the API has never seen cannot be checked: 503 too, not 401 and not 500.
      const fresh = await t.call('GET', '/v1/snapshot', { token: unused });
      assert.equal(fresh.status, 503, fresh.text);
      assert.equal(fresh.body.code, 'DB_UNREACHABLE');
      assert.equal((await t.call('GET', '/healthz', { token: null })).status, 200);
    });

    it('keeps serving the snapshot and long-polls from memory, also to a new consumer', async () => {
      const latest = await t.call('GET', '/v1/snapshot', { token: t.tokens.agent });
      assert.equal(latest.status, 200, latest.text);
      assert.equal(latest.body.version, version);
      const poll = await t.call('GET', `/v1/snapshot?since=${version}&wait=1`, { token: t.tokens.agent });
      assert.equal(poll.status, 304, poll.text);
      const byVersion = await t.call('GET', `/v1/snapshot/${version}`, { token: t.tokens.agent });
      assert.equal(byVersion.status, 200, byVersion.text);
      // A DNS server starting now, elsewhere, with the same token.
      const newcomer = await getFrom<{ version: number }>(`${t.url}/v1/snapshot?since=0&wait=5`, '127.0.0.5', {
        authorization: `Bearer ${t.tokens.agent}`,
      });
      assert.equal(newcomer.status, 200, newcomer.text);
      assert.equal(newcomer.body.version, version);
      // A token the API checked before the outage (a person reading the snapshot).
      const viewer = await t.call('GET', '/v1/snapshot', { token: t.tokens.viewer });
      assert.equal(viewer.status, 200, viewer.text);
    });
  });
}
