import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DB_MODES } from '@catchment/testkit';
import { PLAYBOOK } from '@catchment/testkit/api-world';
import { createToken } from '../src/index.ts';
import { buildWorld, dbFingerprint, startTestApi, type TestApi } from './helpers.ts';

/** The defects of issue 14 that come from input: each a request that once got a 5xx or was wrongly accepted. */
const HUGE = '9999999999999d';

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

function assertProblem(
  r: { status: number; headers: Headers; body: { code?: string } },
  status: number,
  code?: string,
) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(String(r.headers.get('content-type')), /application\/problem\+json/);
  if (code) assert.equal(r.body.code, code);
}

for (const mode of DB_MODES) {
  describe(`hostile input (${mode})`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode);
      await buildWorld(t);
    });
    after(() => t.close());

    it('record data is validated per type, and a CNAME stays alone and off the apex', async () => {
      const rec = (name: string, type: string, value: string) => ({ zone: 'example.net', name, type, value });
      const before = await dbFingerprint(t);
      for (const [type, value] of [
        ['A', 'not-an-ip'],
        ['A', '2001:db8::1'],
        ['A', '198.18.0.0/24'],
        ['AAAA', '198.18.0.1'],
        ['MX', 'abc'],
        ['MX', '70000 mail'],
        ['SRV', 'x y z'],
        ['SRV', '1 2 65536 sip'],
        ['CAA', '0 issue'],
        ['TXT', '"unterminated'],
        ['CNAME', 'two names'],
        ['NS', 'bad..name'],
      ] as const) {
        const r = await t.call('POST', '/v1/records', { body: rec('bad', type, value) });
        assertProblem(r, 422, 'RECORD_INVALID');
        assert.equal(r.body.errors[0].path, '/value', r.text);
      }
      assert.equal(await dbFingerprint(t), before);
      for (const [type, value] of [
        ['A', '198.18.0.7'],
        ['AAAA', '2001:db8::7'],
        ['MX', '10 mail.example.net.'],
        ['SRV', '10 5 5060 sip'],
        ['CAA', '0 issue "letsencrypt.org"'],
        ['TXT', '"v=spf1 -all" "second"'],
      ] as const) {
        const r = await t.call('POST', '/v1/records', { body: rec('good', type, value) });
        assert.equal(r.status, 201, `${type} ${value}: ${r.text}`);
      }
      const a = await t.call('POST', '/v1/records', { body: rec('host', 'A', '198.18.0.8') });
      assert.equal(a.status, 201, a.text);
      const beside = await t.call('POST', '/v1/records', { body: rec('host', 'CNAME', 'good') });
      assertProblem(beside, 409, 'CNAME_CONFLICT');
      const alias = await t.call('POST', '/v1/records', { body: rec('alias', 'CNAME', 'good') });
      assert.equal(alias.status, 201, alias.text);
      assertProblem(await t.call('POST', '/v1/records', { body: rec('alias', 'TXT', 'x') }), 409, 'CNAME_CONFLICT');
      assertProblem(
        await t.call('POST', '/v1/records', { body: rec('alias', 'CNAME', 'host') }),
        409,
        'CNAME_CONFLICT',
      );
      assertProblem(await t.call('POST', '/v1/records', { body: rec('@', 'CNAME', 'host') }), 409, 'CNAME_CONFLICT');
      assertProblem(await t.call('POST', '/v1/records', { body: rec('www', 'CNAME', 'host') }), 409, 'CNAME_CONFLICT');
      // An existing record turned into a CNAME beside other data is refused too.
      const turned = await t.call('PUT', `/v1/records/${a.body.id}`, { body: rec('good', 'CNAME', 'host') });
      assertProblem(turned, 409, 'CNAME_CONFLICT');
      // Replacing a CNAME by itself (a new target) is fine.
      const retarget = await t.call('PUT', `/v1/records/${alias.body.id}`, { body: rec('alias', 'CNAME', 'host') });
      assert.equal(retarget.status, 200, retarget.text);
    });

    it('the database itself refuses bad record data and a CNAME beside other data', async () => {
      const { sql } = await import('drizzle-orm');
      const zone = sql`(select id from zones where name = 'example.net')`;
      // The constraint's name, from the driver's error under drizzle's wrapper (postgres.js or PGlite).
      const insert = (name: string, type: string, value: string) =>
        t.database.db
          .execute(sql`insert into records (zone_id, name, type, value) values (${zone}, ${name}, ${type}, ${value})`)
          .catch((e: { cause?: { constraint?: string; constraint_name?: string } }) => {
            throw new Error(String(e.cause?.constraint_name ?? e.cause?.constraint ?? e));
          });
      await assert.rejects(insert('db1.example.net', 'A', 'not-an-ip'), /records_value_format/);
      await assert.rejects(insert('db1.example.net', 'AAAA', '198.18.0.1'), /records_value_format/);
      await assert.rejects(insert('db1.example.net', 'MX', 'abc'), /records_value_format/);
      await assert.rejects(insert('db1.example.net', 'SRV', 'x y z'), /records_value_format/);
      await insert('db2.example.net', 'A', '198.18.0.9');
      await assert.rejects(insert('db2.example.net', 'CNAME', 'elsewhere.example.org.'), /records_cname_alone/);
      await insert('db3.example.net', 'CNAME', 'elsewhere.example.org.');
      await assert.rejects(insert('db3.example.net', 'A', '198.18.0.9'), /records_cname_alone/);
      await assert.rejects(insert('example.net', 'CNAME', 'elsewhere.example.org.'), /records_cname_alone/);
    });

    it('an Alertmanager alert whose startsAt is not a time is refused, not stored as 1970', async () => {
      const before = await dbFingerprint(t);
      const alert = {
        status: 'firing',
        labels: { alertname: 'Hot', edge: 'lhr' },
        annotations: {},
        startsAt: 'not-a-date',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: '',
        fingerprint: 'f1',
      };
      const hook = {
        version: '4',
        groupKey: 'g',
        status: 'firing',
        receiver: 'r',
        groupLabels: {},
        commonLabels: {},
        commonAnnotations: {},
        externalURL: 'http://am',
        alerts: [alert],
      };
      const r = await t.call('POST', '/v1/signals/alertmanager', { body: hook });
      assertProblem(r, 422);
      assert.equal(r.body.errors[0].path, '/alerts/0/startsAt', r.text);
      assertProblem(
        await t.call('POST', '/v1/signals/alertmanager', {
          body: { ...hook, alerts: [{ ...alert, startsAt: '2026-01-01T00:00:00Z', endsAt: 'soon' }] },
        }),
        422,
      );
      assert.equal(await dbFingerprint(t), before);
    });

    it('a token cannot be created already expired', async () => {
      const before = await dbFingerprint(t);
      const r = await t.call('POST', '/v1/tokens', {
        body: { name: 'late', role: 'viewer', expiresAt: '2001-01-01T00:00:00Z' },
      });
      assertProblem(r, 422);
      assert.equal(r.body.errors[0].path, '/expiresAt');
      assert.equal(await dbFingerprint(t), before);
      const soon = new Date(Date.now() + 3_600_000).toISOString();
      assert.equal(
        (await t.call('POST', '/v1/tokens', { body: { name: 'soon', role: 'viewer', expiresAt: soon } })).status,
        201,
      );
    });

    it("a scoped agent's load without an edge field is attributed to its own edge", async () => {
      const { token } = await createToken(t.database.db, {
        name: `agent-sin-${mode}`,
        role: 'agent',
        scope: 'edge:sin',
      });
      const r = await t.call('POST', '/v1/reports', {
        token,
        body: { consumer: 'edge:sin', kind: 'edge', snapshotVersion: null, healthy: true, load: { rps: 4321 } },
      });
      assert.equal(r.status, 202, r.text);
      const { schema } = await import('@catchment/db');
      const { eq } = await import('drizzle-orm');
      const [sin] = await t.database.db.select().from(schema.edges).where(eq(schema.edges.name, 'sin'));
      const [load] = await t.database.db
        .select()
        .from(schema.edgeLoads)
        .where(eq(schema.edgeLoads.edgeId, sin?.id ?? -1));
      assert.equal(load?.rps, 4321);
      // A load for an edge that does not exist is refused, not dropped.
      const nowhere = await t.call('POST', '/v1/reports', {
        token: t.tokens.agent,
        body: { consumer: 'edge:nowhere', kind: 'edge', snapshotVersion: null, healthy: true, load: { rps: 1 } },
      });
      assertProblem(nowhere, 422, 'REFERENCE_UNKNOWN');
    });

    it('viewers do not read tokens through the audit log', async () => {
      await t.call('POST', '/v1/tokens', { body: { name: 'audited', role: 'operator' } });
      const admin = await t.call('GET', '/v1/audit?objectType=token');
      assert.ok(admin.body.items.length > 0, 'admins see token records');
      for (const role of ['viewer', 'operator'] as const) {
        const all = await t.call('GET', '/v1/audit?limit=500', { token: t.tokens[role] });
        assert.equal(all.status, 200);
        assert.ok(all.body.items.length > 0);
        assert.equal(JSON.stringify(all.body).includes('audited'), false, `${role} sees no token name`);
        const only = await t.call('GET', '/v1/audit?objectType=token', { token: t.tokens[role] });
        assert.deepEqual(only.body.items, []);
      }
    });

    it("a record's GET -> PUT round trip works (also a prefix's)", async () => {
      const made = await t.call('POST', '/v1/records', {
        body: { zone: 'example.net', name: 'round', type: 'A', value: '198.18.0.30' },
      });
      assert.equal(made.status, 201, made.text);
      const got = await t.call('GET', `/v1/records/${made.body.id}`);
      const put = await t.call('PUT', `/v1/records/${made.body.id}`, { body: got.body });
      assert.equal(put.status, 200, put.text);
      assert.equal(
        (await t.call('PUT', `/v1/records/${made.body.id}`, { body: { ...got.body, ttl: null } })).status,
        200,
        'an explicit null ttl is the zone default',
      );
      const wrongId = await t.call('PUT', `/v1/records/${made.body.id}`, {
        body: { ...got.body, id: made.body.id + 1 },
      });
      assertProblem(wrongId, 422);
      const cidr = encodeURIComponent('198.18.4.0/24');
      const prefix = await t.call('GET', `/v1/prefixes/${cidr}`);
      assert.equal((await t.call('PUT', `/v1/prefixes/${cidr}`, { body: prefix.body })).status, 200);
    });

    it('database error text never reaches a problem; the 429 text names the real window', async () => {
      const nul = Buffer.from('a\u0000b').toString('base64url');
      for (const path of [`/v1/consumers?cursor=${nul}`, `/v1/audit?cursor=${nul}`, `/v1/edges?cursor=${nul}`]) {
        const r = await t.call('GET', path);
        assertProblem(r, 400, 'INVALID_CURSOR');
        assert.doesNotMatch(r.text, /byte sequence|encoding|relation|violates|Key \(/);
      }
      const twice = { zone: 'example.net', name: 'twice', type: 'A', value: '198.18.0.31' };
      assert.equal((await t.call('POST', '/v1/records', { body: twice })).status, 201);
      const dup = await t.call('POST', '/v1/records', { body: twice });
      assertProblem(dup, 409, 'NAME_TAKEN');
      assert.doesNotMatch(dup.text, /Key \(|duplicate key|violates/);
      const limited = await startTestApi(mode, { rateLimit: { max: 2, timeWindowMs: 60_000 } });
      try {
        let last = await limited.call('GET', '/v1/edges');
        for (let i = 0; i < 3; i++) last = await limited.call('GET', '/v1/edges');
        assertProblem(last, 429, 'RATE_LIMITED');
        assert.match(last.body.detail, /2 requests per 60 s/);
        assert.ok(Number(last.headers.get('retry-after')) > 0);
      } finally {
        await limited.close();
      }
    });

    it('deep or huge free-form JSON is refused with 4xx, never a 500, and nothing is stored', async () => {
      const before = await dbFingerprint(t);
      const report = (details: unknown) => ({
        consumer: 'dns-deep',
        kind: 'dns',
        snapshotVersion: null,
        healthy: true,
        details,
      });
      for (const depth of [5000, 1000, 40]) {
        // As text: JSON.stringify itself overflows the stack at such depths.
        const deep = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
        const raw = JSON.stringify(report('@')).replace('"@"', deep);
        const r = await t.call('POST', '/v1/reports', { token: t.tokens.agent, raw });
        assertProblem(r, 422);
        assert.match(r.body.detail, /deeper than 32/);
      }
      const big = await t.call('POST', '/v1/reports', {
        token: t.tokens.agent,
        body: report({ blob: 'x'.repeat(100_000) }),
      });
      assertProblem(big, 422);
      assert.equal(big.body.errors[0].path, '/details');
      const deepEdge = await t.call('POST', '/v1/edges', { raw: `${'['.repeat(200_000)}${']'.repeat(200_000)}` });
      assert.ok(deepEdge.status >= 400 && deepEdge.status < 500, `${deepEdge.status}`);
      assert.equal(await dbFingerprint(t), before);
      const fine = await t.call('POST', '/v1/reports', { token: t.tokens.agent, body: report(nested(8)) });
      assert.equal(fine.status, 202, fine.text);
    });

    it("a playbook's withdraw-unicast step may not name an anycast supernet or an unknown prefix", async () => {
      const before = await dbFingerprint(t);
      const step = (prefixes: string[]) => ({
        ...PLAYBOOK,
        name: 'withdraw-wrong',
        steps: [{ kind: 'withdraw-unicast', prefixes }],
      });
      const anycast = await t.call('POST', '/v1/playbooks', { body: step(['198.18.0.0/20']) });
      assertProblem(anycast, 422, 'PLAYBOOK_INVALID');
      assert.equal(anycast.body.errors[0].path, '/steps/0/prefixes/0');
      assert.match(anycast.body.errors[0].message, /anycast/);
      const unknown = await t.call('POST', '/v1/playbooks', { body: step(['198.18.9.0/24']) });
      assertProblem(unknown, 422, 'REFERENCE_UNKNOWN');
      assert.equal(await dbFingerprint(t), before);
      assert.equal((await t.call('POST', '/v1/playbooks', { body: step(['198.18.4.0/24']) })).status, 201);
    });

    it('durations past the documented maximum are refused with 422 on every action route and in playbooks', async () => {
      const before = await dbFingerprint(t);
      const routes: [string, unknown][] = [
        ['/v1/edges/lhr/drain', {}],
        ['/v1/edges/lhr/freeze', {}],
        ['/v1/automation/freeze', {}],
        [`/v1/prefixes/${encodeURIComponent('198.18.4.0/24')}/withdraw`, {}],
        ['/v1/actions', { kind: 'drain', edge: 'lhr' }],
      ];
      for (const [path, extra] of routes) {
        for (const dryRun of [true, false]) {
          const r = await t.call('POST', path, {
            body: { reason: 'overflow', ttl: HUGE, dryRun, ...(extra as object) },
          });
          assertProblem(r, 422);
          assert.match(JSON.stringify(r.body), /366d/, 'the message names the maximum');
        }
      }
      const far = await t.call('POST', '/v1/edges/lhr/drain', {
        body: { reason: 'far', expiresAt: '9999-12-31T00:00:00Z' },
      });
      assertProblem(far, 422);
      const steps = [{ kind: 'dns-shift', schedule: [10], dwell: HUGE }];
      for (const body of [
        { ...PLAYBOOK, name: 'huge-dwell', steps },
        {
          ...PLAYBOOK,
          name: 'huge-verify',
          steps: [{ kind: 'dns-shift', schedule: [10], verify: { within: '367d' } }],
        },
        { ...PLAYBOOK, name: 'huge-cooldown', cooldown: HUGE },
      ]) {
        assertProblem(await t.call('POST', '/v1/playbooks', { body }), 422);
      }
      assertProblem(
        await t.call('POST', '/v1/slos', {
          body: { name: 'w', edge: 'lhr', metric: 'utilisation', enter: 1, exit: 0.5, window: HUGE },
        }),
        422,
      );
      assert.equal(await dbFingerprint(t), before);
      const ok = await t.call('POST', '/v1/edges/lhr/freeze', { body: { reason: 'max', ttl: '366d', dryRun: true } });
      assert.equal(ok.status, 200, ok.text);
    });
  });
}
