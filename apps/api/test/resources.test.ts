import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DB_MODES } from '@catchment/testkit';
import { EDGES, PLAYBOOK, POLICY, SERVICE, SLO, SUPERNET, TRANSIT, UNICAST, ZONE } from '@catchment/testkit/api-world';
import { buildWorld, dbFingerprint, startTestApi, type TestApi } from './helpers.ts';

/** Each resource: where it lives, the key of the fixture object, and a changed copy for PUT. */
const RESOURCES: { path: string; key: string; changed: Record<string, unknown> }[] = [
  { path: '/v1/edges', key: 'lhr', changed: { ...EDGES[3], capacity: { rps: 35000 } } },
  { path: '/v1/zones', key: 'example.net', changed: { ...ZONE, ttl: 7200 } },
  {
    path: '/v1/prefixes',
    key: encodeURIComponent('198.18.4.0/24'),
    changed: { ...UNICAST[3], communities: ['NO_EXPORT'] },
  },
  {
    path: '/v1/policies',
    key: 'default',
    changed: { ...POLICY, rules: [{ match: { continent: 'OC' }, edges: ['sin'] }] },
  },
  { path: '/v1/services', key: 'www.example.net', changed: { ...SERVICE, ttl: 60 } },
  { path: '/v1/transits', key: 'transit-a', changed: { ...TRANSIT, asn: 64501 } },
  { path: '/v1/slos', key: 'lhr-utilisation', changed: { ...SLO, enter: 0.9 } },
  { path: '/v1/playbooks', key: 'shed', changed: { ...PLAYBOOK, mode: 'auto' } },
];

for (const mode of DB_MODES) {
  describe(`resources on ${mode}`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode);
      await buildWorld(t);
    });
    after(() => t.close());

    it('get, conditional get, replace with If-Match (412 when stale), audit in the same change', async () => {
      for (const r of RESOURCES) {
        const got = await t.call('GET', `${r.path}/${r.key}`);
        assert.equal(got.status, 200, `${r.path} ${got.text}`);
        const etag = got.headers.get('etag');
        assert.ok(etag, 'ETag on GET');
        const cached = await t.call('GET', `${r.path}/${r.key}`, { headers: { 'if-none-match': etag } });
        assert.equal(cached.status, 304);

        const put = await t.call('PUT', `${r.path}/${r.key}`, { body: r.changed, headers: { 'if-match': etag } });
        assert.equal(put.status, 200, `${r.path} PUT ${put.text}`);
        assert.notEqual(put.headers.get('etag'), etag);

        const before = await dbFingerprint(t);
        const stale = await t.call('PUT', `${r.path}/${r.key}`, { body: r.changed, headers: { 'if-match': etag } });
        assert.equal(stale.status, 412);
        assert.equal(stale.body.code, 'PRECONDITION_FAILED');
        assert.equal(stale.headers.get('content-type'), 'application/problem+json; charset=utf-8');
        assert.equal(await dbFingerprint(t), before, 'a stale write changes nothing');

        const now = await t.call('GET', `${r.path}/${r.key}`);
        assert.deepEqual(now.body, put.body);
        const audit = await t.call('GET', `/v1/audit?action=update&objectId=${r.key}`);
        assert.equal(audit.status, 200);
        const rec = audit.body.items.find((a: { objectId: string }) => a.objectId === decodeURIComponent(r.key));
        assert.ok(rec, `audit of ${r.path} update`);
        assert.equal(rec.actor, 'token:test-admin');
        assert.deepEqual(rec.after, put.body);
        assert.deepEqual(rec.before, got.body);
      }
    });

    it('two concurrent writers with the same ETag: one wins, the other gets 412, nothing is lost', async () => {
      const got = await t.call('GET', '/v1/edges/sin');
      const etag = String(got.headers.get('etag'));
      const writes = [70000, 90000].map((rps) =>
        t.call('PUT', '/v1/edges/sin', {
          body: { ...got.body, capacity: { rps } },
          headers: { 'if-match': etag },
        }),
      );
      const results = await Promise.all(writes);
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 412]);
      const winner = results.find((r) => r.status === 200);
      const now = await t.call('GET', '/v1/edges/sin');
      assert.deepEqual(now.body, winner?.body, 'the stored object is the winner’s');
      const audits = await t.call('GET', '/v1/audit?objectType=edge&objectId=sin&action=update');
      assert.equal(audits.body.items.length, 1, 'one change, one audit record');
    });

    it('lists with cursor pagination and filters', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = cursor ? `&cursor=${cursor}` : '';
        const page = await t.call('GET', `/v1/prefixes?limit=2${q}`);
        assert.equal(page.status, 200);
        assert.ok(page.body.items.length <= 2);
        seen.push(...page.body.items.map((p: { cidr: string }) => p.cidr));
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      assert.deepEqual(
        seen,
        [SUPERNET, ...UNICAST].map((p) => p.cidr),
      );
      const anycast = await t.call('GET', '/v1/prefixes?kind=anycast');
      assert.deepEqual(
        anycast.body.items.map((p: { cidr: string }) => p.cidr),
        ['198.18.0.0/20'],
      );
      const lhr = await t.call('GET', '/v1/prefixes?edge=lhr');
      assert.deepEqual(
        lhr.body.items.map((p: { cidr: string }) => p.cidr),
        ['198.18.4.0/24'],
      );
      const eu = await t.call('GET', '/v1/edges?continent=EU');
      assert.deepEqual(eu.body.items.map((e: { name: string }) => e.name).sort(), ['fra', 'lhr']);
      const inZone = await t.call('GET', '/v1/services?zone=example.net&limit=1');
      assert.deepEqual(
        inZone.body.items.map((x: { name: string }) => x.name),
        ['www.example.net'],
      );
      assert.deepEqual((await t.call('GET', '/v1/services?zone=example.org')).body.items, []);
      const bad = await t.call('GET', '/v1/edges?cursor=nonsense');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'INVALID_CURSOR');
    });

    it('audit log: filters by actor, object, action and time, newest first, paginated', async () => {
      const all = await t.call('GET', '/v1/audit?limit=500');
      assert.ok(all.body.items.length > 10);
      const ids = all.body.items.map((a: { id: number }) => a.id);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => b - a),
        'newest first',
      );
      const first = await t.call('GET', '/v1/audit?limit=3');
      const second = await t.call('GET', `/v1/audit?limit=3&cursor=${first.body.nextCursor}`);
      assert.deepEqual(
        [...first.body.items, ...second.body.items].map((a: { id: number }) => a.id),
        ids.slice(0, 6),
      );
      const mine = await t.call('GET', '/v1/audit?actor=token:test-admin&objectType=edge&objectId=fra');
      assert.ok(mine.body.items.length >= 1);
      assert.ok(mine.body.items.every((a: { objectId: string }) => a.objectId === 'fra'));
      const future = await t.call('GET', `/v1/audit?since=${new Date(Date.now() + 60_000).toISOString()}`);
      assert.deepEqual(future.body.items, []);
      const past = await t.call('GET', '/v1/audit?until=2000-01-01T00:00:00Z');
      assert.deepEqual(past.body.items, []);
      const window = await t.call(
        'GET',
        `/v1/audit?since=2000-01-01T00:00:00Z&until=${new Date(Date.now() + 60_000).toISOString()}&limit=500`,
      );
      assert.equal(window.body.items.length, all.body.items.length);
      const bad = await t.call('GET', '/v1/audit?since=yesterday');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'INVALID_QUERY');
      assert.equal((await t.call('GET', '/v1/audit', { token: t.tokens.viewer })).status, 200);
    });

    it('records: create in a zone, list by zone, replace, delete', async () => {
      const created = await t.call('POST', '/v1/records', {
        body: { zone: 'example.net', name: 'mail', type: 'A', value: '192.0.2.25' },
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.name, 'mail.example.net');
      assert.equal(created.headers.get('location'), `/v1/records/${created.body.id}`);
      const list = await t.call('GET', '/v1/records?zone=example.net');
      assert.equal(list.body.items.length, 1);
      const put = await t.call('PUT', `/v1/records/${created.body.id}`, {
        body: { zone: 'example.net', name: 'mail', type: 'A', value: '192.0.2.26', ttl: 300 },
      });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.body.ttl, 300);
      const del = await t.call('DELETE', `/v1/records/${created.body.id}`);
      assert.equal(del.status, 204);
      assert.equal((await t.call('GET', `/v1/records/${created.body.id}`)).status, 404);
    });

    it("one edge's addresses of a service: set, validate, remove, with the service's ETag", async () => {
      const svc = await t.call('GET', '/v1/services/www.example.net');
      const etag = String(svc.headers.get('etag'));
      const set = await t.call('PUT', '/v1/services/www.example.net/addresses/lhr', {
        body: { v4: ['198.18.4.11'], v6: ['2001:db8:104::11'] },
        headers: { 'if-match': etag },
      });
      assert.equal(set.status, 200, set.text);
      assert.deepEqual(set.body.addresses.lhr, { v4: ['198.18.4.11'], v6: ['2001:db8:104::11'] });
      const stale = await t.call('PUT', '/v1/services/www.example.net/addresses/lhr', {
        body: { v4: ['198.18.4.12'] },
        headers: { 'if-match': etag },
      });
      assert.equal(stale.status, 412);
      const before = await dbFingerprint(t);
      const wrong = await t.call('PUT', '/v1/services/www.example.net/addresses/lhr', {
        body: { v4: ['2001:db8::1'] },
      });
      assert.equal(wrong.status, 422);
      assert.equal(wrong.body.code, 'ADDRESS_INVALID');
      const unknown = await t.call('PUT', '/v1/services/www.example.net/addresses/nowhere', {
        body: { v4: ['192.0.2.1'] },
      });
      assert.equal(unknown.body.code, 'REFERENCE_UNKNOWN');
      assert.equal(await dbFingerprint(t), before);
      const removed = await t.call('DELETE', '/v1/services/www.example.net/addresses/lhr');
      assert.equal(removed.status, 200);
      assert.equal(removed.body.addresses.lhr, undefined);
      assert.equal((await t.call('DELETE', '/v1/services/www.example.net/addresses/lhr')).status, 404);
      const restored = await t.call('PUT', '/v1/services/www.example.net/addresses/lhr', {
        body: { v4: ['198.18.4.10'] },
      });
      assert.equal(restored.status, 200);
      const audit = await t.call('GET', '/v1/audit?objectType=service&action=set-addresses');
      assert.equal(audit.body.items.length, 2);
    });

    it("a prefix's communities: replace with validation and the prefix's ETag", async () => {
      const path = `/v1/prefixes/${encodeURIComponent('198.18.2.0/24')}`;
      const got = await t.call('GET', path);
      const set = await t.call('PUT', `${path}/communities`, {
        body: ['64500:1', '64500:1:2', 'GRACEFUL_SHUTDOWN'],
        headers: { 'if-match': String(got.headers.get('etag')) },
      });
      assert.equal(set.status, 200, set.text);
      assert.deepEqual(set.body.communities, ['64500:1', '64500:1:2', 'GRACEFUL_SHUTDOWN']);
      const before = await dbFingerprint(t);
      const bad = await t.call('PUT', `${path}/communities`, { body: ['64500:65536'] });
      assert.equal(bad.status, 422);
      assert.equal(bad.body.code, 'COMMUNITY_INVALID');
      assert.equal(bad.body.errors[0].path, '/communities/0');
      const stale = await t.call('PUT', `${path}/communities`, {
        body: [],
        headers: { 'if-match': String(got.headers.get('etag')) },
      });
      assert.equal(stale.status, 412);
      assert.equal(await dbFingerprint(t), before);
      const ann = (await t.call('GET', '/v1/snapshot')).body.body.announcements.find(
        (a: { prefix: string }) => a.prefix === '198.18.2.0/24',
      );
      assert.ok(ann.communities.includes('GRACEFUL_SHUTDOWN'), 'published');
    });

    it("an edge's DSR settings: created, read back, and reach the snapshot's dsr entry", async () => {
      const dsr = { encap: 'gue', guePort: 6080, clientPrefixes: [{ cidr: '203.0.113.0/24', mode: 'always' }] };
      const made = await t.call('POST', '/v1/edges', {
        body: { ...EDGES[0], name: 'dsr1', dsrAddress: '192.0.2.77', dsr },
      });
      assert.equal(made.status, 201, made.text);
      const got = await t.call('GET', '/v1/edges/dsr1');
      assert.deepEqual(got.body.dsr, dsr);
      const { compileSnapshot } = await import('@catchment/db');
      const entry = (await compileSnapshot(t.database.db)).dsr.find((d) => d.edge === 'dsr1');
      assert.deepEqual(
        { encap: entry?.encap, guePort: entry?.guePort, clientPrefixes: entry?.clientPrefixes },
        { encap: 'gue', guePort: 6080, clientPrefixes: dsr.clientPrefixes },
      );
      assert.equal(
        (await t.call('DELETE', '/v1/edges/dsr1', { headers: { 'if-match': got.headers.get('etag')! } })).status,
        204,
      );
    });

    it('delete honours If-Match and refuses objects still in use', async () => {
      const slo = await t.call('POST', '/v1/slos', { body: { ...SLO, name: 'tmp', edge: 'fra' } });
      assert.equal(slo.status, 201);
      const stale = await t.call('DELETE', '/v1/slos/tmp', { headers: { 'if-match': '"nope"' } });
      assert.equal(stale.status, 412);
      const del = await t.call('DELETE', '/v1/slos/tmp', { headers: { 'if-match': String(slo.headers.get('etag')) } });
      assert.equal(del.status, 204);
      assert.equal((await t.call('GET', '/v1/slos/tmp')).status, 404);
      const audit = await t.call('GET', '/v1/audit?objectType=slo&action=delete');
      assert.equal(audit.body.items[0].objectId, 'tmp');

      const before = await dbFingerprint(t);
      const inUse = await t.call('DELETE', '/v1/edges/fra');
      assert.equal(inUse.status, 409);
      assert.equal(inUse.body.code, 'IN_USE');
      assert.equal(await dbFingerprint(t), before);
    });

    it('settings: read, replace, and refuse settings the configuration breaks', async () => {
      const got = await t.call('GET', '/v1/settings');
      assert.equal(got.status, 200);
      assert.equal(got.body.effective.coverageMinAnnouncers, 2);
      const put = await t.call('PUT', '/v1/settings', {
        body: { maxEdgesShed: 3 },
        headers: { 'if-match': String(got.headers.get('etag')) },
      });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.body.effective.maxEdgesShed, 3);
      const before = await dbFingerprint(t);
      const bad = await t.call('PUT', '/v1/settings', { body: { maxAnnounceLengthV4: 20 } });
      assert.equal(bad.status, 422);
      assert.equal(bad.body.code, 'PREFIX_TOO_LONG');
      assert.equal(await dbFingerprint(t), before);
    });

    /** Each bad input: its status and problem code, with the database unchanged. */
    const BAD: {
      what: string;
      method: string;
      path: string;
      body?: unknown;
      raw?: string;
      ct?: string;
      status: number;
      code: string;
      field?: string;
    }[] = [
      {
        what: 'number as text',
        method: 'POST',
        path: '/v1/edges',
        body: { ...EDGES[0], name: 'x1', capacity: { rps: '5' } },
        status: 422,
        code: 'VALIDATION_FAILED',
        field: '/capacity/rps',
      },
      {
        what: 'unknown field',
        method: 'POST',
        path: '/v1/edges',
        body: { ...EDGES[0], name: 'x2', colour: 'red' },
        status: 422,
        code: 'VALIDATION_FAILED',
      },
      { what: 'duplicate name', method: 'POST', path: '/v1/edges', body: EDGES[0], status: 409, code: 'NAME_TAKEN' },
      {
        what: 'bad DSR address',
        method: 'POST',
        path: '/v1/edges',
        body: { ...EDGES[0], name: 'x3', dsrAddress: '300.1.1.1' },
        status: 422,
        code: 'ADDRESS_INVALID',
        field: '/dsrAddress',
      },
      {
        what: 'DSR address inside the anycast supernet others announce',
        method: 'POST',
        path: '/v1/edges',
        body: { ...EDGES[0], name: 'x4', dsrAddress: '198.18.0.44' },
        status: 422,
        code: 'DSR_ADDRESS_INVALID',
        field: '/dsrAddress',
      },
      {
        what: 'GUE port without GUE',
        method: 'POST',
        path: '/v1/edges',
        body: { ...EDGES[0], name: 'x5', dsr: { encap: 'ipip', guePort: 7000 } },
        status: 422,
        code: 'DSR_INVALID',
        field: '/dsr/guePort',
      },
      {
        what: 'client prefix with host bits',
        method: 'POST',
        path: '/v1/edges',
        body: { ...EDGES[0], name: 'x6', dsr: { clientPrefixes: [{ cidr: '203.0.113.7/24', mode: 'never' }] } },
        status: 422,
        code: 'CIDR_INVALID',
        field: '/dsr/clientPrefixes/0/cidr',
      },
      {
        what: "an anycast prefix that would cover other edges' DSR addresses",
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '198.19.100.0/24', kind: 'anycast', announcers: ['fra', 'iad'] },
        status: 422,
        code: 'DSR_ADDRESS_INVALID',
      },
      {
        what: 'host bits set',
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '198.18.5.1/24', kind: 'unicast', edge: 'lhr' },
        status: 422,
        code: 'CIDR_INVALID',
        field: '/cidr',
      },
      {
        what: 'not an address',
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '198.18.300.0/24', kind: 'unicast', edge: 'lhr' },
        status: 422,
        code: 'CIDR_INVALID',
        field: '/cidr',
      },
      {
        what: 'IPv4 longer than /24',
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '198.18.5.0/25', kind: 'unicast', edge: 'lhr' },
        status: 422,
        code: 'PREFIX_TOO_LONG',
        field: '/cidr',
      },
      {
        what: 'IPv6 longer than /48',
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '2001:db8:1:1::/64', kind: 'unicast', edge: 'lhr' },
        status: 422,
        code: 'PREFIX_TOO_LONG',
      },
      {
        what: 'outside its supernet',
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '198.19.0.0/24', kind: 'unicast', edge: 'lhr', supernet: '198.18.0.0/20' },
        status: 422,
        code: 'PREFIX_OUTSIDE_SUPERNET',
        field: '/supernet',
      },
      {
        what: 'supernet not declared',
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '198.18.5.0/24', kind: 'unicast', edge: 'lhr', supernet: '198.18.0.0/16' },
        status: 422,
        code: 'REFERENCE_UNKNOWN',
        field: '/supernet',
      },
      {
        what: 'owned by two edges',
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '198.18.1.0/24', kind: 'unicast', edge: 'iad' },
        status: 409,
        code: 'NAME_TAKEN',
      },
      {
        what: 'overlaps another edge',
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '198.18.0.0/23', kind: 'unicast', edge: 'lhr' },
        status: 409,
        code: 'PREFIX_OVERLAP',
        field: '/cidr',
      },
      {
        what: 'community 16-bit overflow',
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '198.18.5.0/24', kind: 'unicast', edge: 'lhr', communities: ['65536:1'] },
        status: 422,
        code: 'COMMUNITY_INVALID',
        field: '/communities/0',
      },
      {
        what: 'large community overflow',
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '198.18.5.0/24', kind: 'unicast', edge: 'lhr', communities: ['1:2:4294967296'] },
        status: 422,
        code: 'COMMUNITY_INVALID',
      },
      {
        what: 'unknown well-known community',
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '198.18.5.0/24', kind: 'unicast', edge: 'lhr', communities: ['NO_SUCH_THING'] },
        status: 422,
        code: 'COMMUNITY_INVALID',
      },
      {
        what: 'unknown edge',
        method: 'POST',
        path: '/v1/prefixes',
        body: { cidr: '198.18.5.0/24', kind: 'unicast', edge: 'nowhere' },
        status: 422,
        code: 'REFERENCE_UNKNOWN',
        field: '/edge',
      },
      {
        what: 'schedule not increasing',
        method: 'POST',
        path: '/v1/playbooks',
        body: { ...PLAYBOOK, name: 'p2', steps: [{ kind: 'dns-shift', schedule: [50, 10] }] },
        status: 422,
        code: 'PLAYBOOK_INVALID',
        field: '/steps/0/schedule/1',
      },
      {
        what: 'unknown step kind',
        method: 'POST',
        path: '/v1/playbooks',
        body: { ...PLAYBOOK, name: 'p3', steps: [{ kind: 'reboot' }] },
        status: 422,
        code: 'PLAYBOOK_INVALID',
      },
      {
        what: 'no steps',
        method: 'POST',
        path: '/v1/playbooks',
        body: { ...PLAYBOOK, name: 'p4', steps: [] },
        status: 422,
        code: 'PLAYBOOK_INVALID',
      },
      {
        what: 'trigger on unknown SLO',
        method: 'POST',
        path: '/v1/playbooks',
        body: { ...PLAYBOOK, name: 'p5', trigger: { slo: 'nope' } },
        status: 422,
        code: 'REFERENCE_UNKNOWN',
        field: '/trigger/slo',
      },
      {
        what: 'no hysteresis',
        method: 'POST',
        path: '/v1/slos',
        body: { ...SLO, name: 's2', enter: 0.5, exit: 0.8 },
        status: 422,
        code: 'SLO_INVALID',
        field: '/exit',
      },
      {
        what: 'service outside zone',
        method: 'POST',
        path: '/v1/services',
        body: { ...SERVICE, name: 'www.example.org.' },
        status: 422,
        code: 'NAME_OUT_OF_ZONE',
        field: '/name',
      },
      {
        what: 'service address family',
        method: 'POST',
        path: '/v1/services',
        body: { ...SERVICE, name: 'api', addresses: { fra: { v4: ['2001:db8::1'] } } },
        status: 422,
        code: 'ADDRESS_INVALID',
      },
      {
        what: 'record outside zone',
        method: 'POST',
        path: '/v1/records',
        body: { zone: 'example.net', name: 'x.example.org.', type: 'A', value: '192.0.2.1' },
        status: 422,
        code: 'NAME_OUT_OF_ZONE',
      },
      {
        what: 'record in unknown zone',
        method: 'POST',
        path: '/v1/records',
        body: { zone: 'example.org', name: 'x', type: 'A', value: '192.0.2.1' },
        status: 422,
        code: 'REFERENCE_UNKNOWN',
      },
      {
        what: 'policy rule CIDR',
        method: 'POST',
        path: '/v1/policies',
        body: { name: 'p', rules: [{ match: { cidr: '10.0.0.1/8' }, edges: ['fra'] }] },
        status: 422,
        code: 'CIDR_INVALID',
        field: '/rules/0/match/cidr',
      },
      {
        what: 'rename by PUT',
        method: 'PUT',
        path: '/v1/edges/fra',
        body: { ...EDGES[0], name: 'fra2' },
        status: 422,
        code: 'VALIDATION_FAILED',
      },
      {
        what: 'malformed JSON',
        method: 'POST',
        path: '/v1/edges',
        raw: '{"name": ',
        status: 400,
        code: 'MALFORMED_JSON',
      },
      {
        what: 'wrong media type',
        method: 'POST',
        path: '/v1/edges',
        raw: 'name=x',
        ct: 'application/x-www-form-urlencoded',
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        what: 'body too large',
        method: 'POST',
        path: '/v1/edges',
        raw: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      { what: 'bad query', method: 'GET', path: '/v1/edges?limit=0', status: 400, code: 'INVALID_QUERY' },
      {
        what: 'unknown query parameter',
        method: 'GET',
        path: '/v1/edges?colour=red',
        status: 400,
        code: 'INVALID_QUERY',
      },
      {
        what: 'missing object',
        method: 'PUT',
        path: '/v1/edges/nowhere',
        body: { ...EDGES[0], name: 'nowhere' },
        status: 404,
        code: 'NOT_FOUND',
      },
      { what: 'no such route', method: 'GET', path: '/v1/nothing', status: 404, code: 'ROUTE_NOT_FOUND' },
    ];
    it('the validation table: each bad input gets its 4xx and problem code, and changes nothing', async () => {
      for (const b of BAD) {
        const before = await dbFingerprint(t);
        const r = await t.call(b.method, b.path, {
          body: b.body,
          ...(b.raw !== undefined ? { raw: b.raw } : {}),
          ...(b.ct ? { headers: { 'content-type': b.ct } } : {}),
        });
        assert.equal(r.status, b.status, `${b.what}: ${r.text.slice(0, 300)}`);
        assert.equal(r.body.code, b.code, `${b.what}: ${r.text.slice(0, 300)}`);
        assert.match(String(r.headers.get('content-type')), /^application\/problem\+json/);
        assert.equal(r.body.status, b.status);
        assert.match(r.body.type, /^urn:catchment:problem:/);
        if (b.field) {
          assert.ok(
            r.body.errors?.some((e: { path: string }) => e.path === b.field),
            `${b.what}: field ${b.field} in ${JSON.stringify(r.body.errors)}`,
          );
        }
        assert.equal(await dbFingerprint(t), before, `${b.what}: database unchanged`);
      }
    });
  });
}
