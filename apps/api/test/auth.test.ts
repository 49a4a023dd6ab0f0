import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { schema } from '@catchment/db';
import { DB_MODES } from '@catchment/testkit';
import { pino } from 'pino';
import type { Role } from '../src/index.ts';
import { EDGE_FRA, startTestApi, type TestApi } from './helpers.ts';

const ROLES: Role[] = ['viewer', 'operator', 'admin', 'agent'];

/** A concrete URL for a route pattern: parameters that name nothing. */
function concrete(url: string): string {
  return url
    .replace(':version', '999')
    .replace(':id', '999999')
    .replace(':cidr', encodeURIComponent('203.0.113.0/24'))
    .replace(/:[a-z]+/g, 'zz-none')
    .replace('*', 'index.html');
}

for (const mode of DB_MODES) {
  describe(`auth on ${mode}`, () => {
    let t: TestApi;
    const logs: string[] = [];
    before(async () => {
      const sink = new Writable({
        write(chunk, _enc, done) {
          logs.push(String(chunk));
          done();
        },
      });
      t = await startTestApi(mode, { logger: pino({ level: 'trace' }, sink) });
    });
    after(() => t.close());

    it('every role against every route: 401 without a token, 403 outside the role, never 403 inside it', async () => {
      const routes = t.api.app.catchment.routes;
      assert.ok(routes.length > 60, `${routes.length} routes`);
      for (const r of routes) {
        const url = concrete(r.url);
        const body = ['POST', 'PUT', 'PATCH'].includes(r.method) ? {} : undefined;
        const anon = await t.call(r.method, url, { token: null, body });
        if (r.access === 'public') {
          assert.notEqual(anon.status, 401, `${r.method} ${r.url} is public`);
          continue;
        }
        assert.equal(anon.status, 401, `${r.method} ${r.url} without a token`);
        assert.equal(anon.body.code, 'UNAUTHORIZED');
        assert.match(String(anon.headers.get('www-authenticate')), /Bearer/);
        for (const role of ROLES) {
          const res = await t.call(r.method, url, { token: t.tokens[role], body });
          if (r.access.includes(role)) {
            assert.ok(
              ![401, 403].includes(res.status),
              `${role} may ${r.method} ${r.url}: got ${res.status} ${res.text.slice(0, 200)}`,
            );
          } else {
            assert.equal(res.status, 403, `${role} may not ${r.method} ${r.url}: got ${res.status}`);
            assert.equal(res.body.code, 'FORBIDDEN');
          }
        }
      }
    });

    it('accepts Basic auth with the token as password; rejects wrong, revoked and expired tokens', async () => {
      const basic = Buffer.from(`alertmanager:${t.tokens.viewer}`).toString('base64');
      const ok = await t.call('GET', '/v1/edges', { token: null, headers: { authorization: `Basic ${basic}` } });
      assert.equal(ok.status, 200);
      const wrongSecret = t.tokens.viewer.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
      assert.equal((await t.call('GET', '/v1/edges', { token: wrongSecret })).status, 401);
      assert.equal((await t.call('GET', '/v1/edges', { token: 'ct_nonsense' })).status, 401);

      const made = await t.call('POST', '/v1/tokens', { body: { name: 'short-lived', role: 'viewer' } });
      assert.equal(made.status, 201);
      assert.equal((await t.call('GET', '/v1/edges', { token: made.body.token })).status, 200);
      const revoked = await t.call('DELETE', `/v1/tokens/${made.body.info.id}`, { body: { reason: 'test' } });
      assert.equal(revoked.status, 200);
      assert.ok(revoked.body.revokedAt);
      assert.equal(
        (await t.call('GET', '/v1/edges', { token: made.body.token })).status,
        401,
        'revocation is immediate',
      );

      const past = new Date(Date.now() + 1500).toISOString();
      const expiring = await t.call('POST', '/v1/tokens', {
        body: { name: 'expiring', role: 'viewer', expiresAt: past },
      });
      assert.equal((await t.call('GET', '/v1/edges', { token: expiring.body.token })).status, 200);
      await new Promise((r) => setTimeout(r, 1600));
      assert.equal((await t.call('GET', '/v1/edges', { token: expiring.body.token })).status, 401, 'expired');
    });

    it('createToken (the CLI path) audits the creation when given an actor, without the secret', async () => {
      const { createToken } = await import('../src/index.ts');
      const made = await createToken(t.database.db, { name: 'first-admin', role: 'admin', actor: 'cli:root' });
      assert.match(made.token, /^ct_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
      const audit = await t.call('GET', '/v1/audit?actor=cli:root', { token: made.token });
      assert.equal(audit.status, 200);
      assert.equal(audit.body.items[0].objectId, 'first-admin');
      assert.ok(!audit.text.includes(made.token.split('.')[1] as string));
      const dup = await createToken(t.database.db, { name: 'first-admin', role: 'admin' }).catch((e) => e);
      assert.equal(dup.code, 'NAME_TAKEN');
    });

    it('an agent token scoped to a consumer reports only for it', async () => {
      const made = await t.call('POST', '/v1/tokens', { body: { name: 'dns-1', role: 'agent', scope: 'dns-1' } });
      const report = { consumer: 'dns-1', kind: 'dns', snapshotVersion: null, healthy: true };
      assert.equal((await t.call('POST', '/v1/reports', { token: made.body.token, body: report })).status, 202);
      const other = await t.call('POST', '/v1/reports', {
        token: made.body.token,
        body: { ...report, consumer: 'dns-2' },
      });
      assert.equal(other.status, 403);
      assert.equal((await t.call('GET', '/v1/edges', { token: made.body.token })).status, 403);
      // An edge agent's token reports its own edge's load, not another's (a load for an unknown edge is refused).
      await t.call('POST', '/v1/edges', { body: EDGE_FRA });
      const agent = await t.call('POST', '/v1/tokens', {
        body: { name: 'agent-fra', role: 'agent', scope: 'edge:fra' },
      });
      const edgeReport = { consumer: 'edge:fra', kind: 'edge', snapshotVersion: null, healthy: true, load: { rps: 5 } };
      const own = await t.call('POST', '/v1/reports', {
        token: agent.body.token,
        body: { ...edgeReport, edge: 'fra' },
      });
      assert.equal(own.status, 202);
      const foreign = await t.call('POST', '/v1/reports', {
        token: agent.body.token,
        body: { ...edgeReport, edge: 'iad' },
      });
      assert.equal(foreign.status, 403);
      assert.match(foreign.body.detail, /edge "fra"/);
    });

    it('never returns, stores or logs a token in clear', async () => {
      const made = await t.call('POST', '/v1/tokens', { body: { name: 'secret-check', role: 'operator' } });
      assert.equal(made.status, 201);
      assert.equal(made.headers.get('cache-control'), 'no-store');
      const token: string = made.body.token;
      const secret = token.split('.')[1] as string;
      await t.call('GET', '/v1/edges', { token });
      await t.call('GET', '/v1/edges', {
        token: null,
        headers: { authorization: `Basic ${Buffer.from(`u:${token}`).toString('base64')}` },
      });
      const everyToken = [token, ...Object.values(t.tokens)];
      const secrets = everyToken.map((x) => x.split('.')[1] as string);
      const list = await t.call('GET', '/v1/tokens?limit=500');
      const rows = await t.database.db.select().from(schema.apiTokens);
      const audit = await t.database.db.select().from(schema.auditLog);
      const haystacks = {
        logs: logs.join('\n'),
        list: list.text,
        rows: JSON.stringify(rows),
        audit: JSON.stringify(audit),
      };
      assert.ok(logs.length > 10, 'requests were logged');
      for (const [where, text] of Object.entries(haystacks)) {
        for (const s of [secret, ...secrets]) assert.ok(!text.includes(s), `a token secret appears in ${where}`);
      }
      assert.ok(
        rows.every((r) => r.hash.startsWith('scrypt$')),
        'hashed with scrypt',
      );
    });

    it('rate-limits per token', async () => {
      const limited = await startTestApi(mode, { rateLimit: { max: 5, timeWindowMs: 60_000 } });
      try {
        for (let i = 0; i < 5; i++)
          assert.equal((await limited.call('GET', '/v1/edges', { token: limited.tokens.viewer })).status, 200);
        const over = await limited.call('GET', '/v1/edges', { token: limited.tokens.viewer });
        assert.equal(over.status, 429);
        assert.equal(over.body.code, 'RATE_LIMITED');
        assert.ok(over.headers.get('retry-after'));
        assert.equal(
          (await limited.call('GET', '/v1/edges', { token: limited.tokens.operator })).status,
          200,
          'another token has its own budget',
        );
        assert.equal((await limited.call('GET', '/healthz', { token: null })).status, 200, 'health is never limited');
      } finally {
        await limited.close();
      }
    });
  });
}
