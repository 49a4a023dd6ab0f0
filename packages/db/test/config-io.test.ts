import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type CatchmentError, normaliseConfig, parseConfigText, sealSnapshot, verifySnapshot } from '@catchment/core';
import {
  compileSnapshot,
  type Database,
  exportConfig,
  importConfig,
  publishSnapshot,
  rowsOf,
  schema,
} from '@catchment/db';
import { DB_MODES, freshDatabase } from '@catchment/testkit';
import { sql } from 'drizzle-orm';
import { parse } from 'yaml';

const demoText = await readFile(new URL('../../../config/demo.yaml', import.meta.url), 'utf8');
const demo = () => parse(demoText);
const count = async (database: Database, table: string) =>
  Number(rowsOf<{ n: number }>(await database.db.execute(sql.raw(`select count(*)::int as n from ${table}`)))[0]?.n);

for (const mode of DB_MODES) {
  describe(`configuration import/export on ${mode}`, () => {
    let database: Database;
    before(async () => {
      database = await freshDatabase(mode);
    });
    after(() => database.close());

    it('refuses an invalid file, lists every error by path, and changes nothing', async () => {
      const bad = demo();
      bad.edges[0].capacity.rps = -5;
      bad.prefixes.push({ cidr: '198.18.1.128/25', kind: 'unicast', edge: 'lhr' }); // overlaps fra's /24
      bad.prefixes.push({ cidr: '198.18.7.1/24', kind: 'unicast', edge: 'lhr' }); // host bits
      bad.services[0].addresses.nowhere = { v4: ['198.18.9.1'] };
      await assert.rejects(importConfig(database.db, bad, { actor: 'test' }), (err: CatchmentError) => {
        assert.equal(err.code, 'CONFIG_INVALID');
        const paths = err.errors.map((e) => e.path);
        assert.ok(paths.includes('/edges/0/capacity/rps'), JSON.stringify(err.errors));
        return true;
      });
      const bad2 = demo();
      bad2.prefixes.push({ cidr: '198.18.1.128/25', kind: 'unicast', edge: 'lhr' });
      bad2.prefixes.push({ cidr: '198.18.7.1/24', kind: 'unicast', edge: 'lhr', supernet: '198.18.0.0/20' });
      bad2.prefixes.push({ cidr: '203.0.113.0/24', kind: 'unicast', edge: 'lhr', supernet: '198.18.0.0/20' });
      bad2.prefixes.push({ cidr: '198.18.8.0/25', kind: 'unicast', edge: 'lhr' }); // longer than /24
      bad2.services[0].addresses.nowhere = { v4: ['198.18.9.1'] };
      bad2.communityTypo = true;
      await assert.rejects(importConfig(database.db, bad2, { actor: 'test' }), (err: CatchmentError) => {
        assert.equal(err.code, 'CONFIG_INVALID');
        assert.ok(
          err.errors.some((e) => e.message.includes('communityTypo')),
          JSON.stringify(err.errors),
        );
        return true;
      });
      delete bad2.communityTypo;
      await assert.rejects(importConfig(database.db, bad2, { actor: 'test' }), (err: CatchmentError) => {
        const byPath = new Map(err.errors.map((e) => [e.path, e.message]));
        const n = bad2.prefixes.length;
        assert.match(byPath.get(`/prefixes/${n - 4}/cidr`) ?? '', /overlaps unicast 198\.18\.1\.0\/24/);
        assert.match(byPath.get(`/prefixes/${n - 3}/cidr`) ?? '', /host bits/);
        assert.match(byPath.get(`/prefixes/${n - 2}/supernet`) ?? '', /not inside/);
        assert.match(byPath.get(`/prefixes/${n - 1}/cidr`) ?? '', /longer than the longest announceable/);
        assert.match(byPath.get('/services/0/addresses/nowhere') ?? '', /unknown edge/);
        return true;
      });
      for (const table of ['edges', 'zones', 'prefixes', 'services', 'audit_log']) {
        assert.equal(await count(database, table), 0, `${table} is still empty`);
      }
    });

    it('imports the demo, exports it back identically, and a second import changes nothing', async () => {
      const dry = await importConfig(database.db, demo(), { actor: 'test', dryRun: true });
      assert.equal(dry.applied, false);
      assert.ok(dry.changes.length > 20);
      assert.equal(await count(database, 'edges'), 0, 'dry run wrote nothing');

      const first = await importConfig(database.db, demo(), { actor: 'test' });
      assert.equal(first.applied, true);
      assert.equal(await count(database, 'edges'), 6);
      assert.equal(await count(database, 'audit_log'), first.changes.length);

      const exported = await exportConfig(database.db);
      assert.deepEqual(exported, normaliseConfig(parseConfigText(demoText)));

      const again = await importConfig(database.db, exported, { actor: 'test' });
      assert.deepEqual(again.changes, []);
    });

    it('per-edge DSR settings are stored, exported and compiled; DSR addresses in the anycast supernet are refused', async () => {
      const body = await compileSnapshot(database.db);
      const dsrOf = (name: string) => body.dsr.find((d) => d.edge === name);
      assert.deepEqual(
        { encap: dsrOf('syd')?.encap, guePort: dsrOf('syd')?.guePort, prefixes: dsrOf('syd')?.clientPrefixes },
        { encap: 'gue', guePort: 6080, prefixes: [{ cidr: '203.0.113.0/24', mode: 'never' }] },
      );
      assert.deepEqual(
        { encap: dsrOf('fra')?.encap, guePort: dsrOf('fra')?.guePort, prefixes: dsrOf('fra')?.clientPrefixes },
        { encap: 'ipip', guePort: 6080, prefixes: [] },
      );
      const old = demo();
      old.edges[3].dsrAddress = '198.18.0.14'; // the demo's address before: inside the anycast /20
      await assert.rejects(importConfig(database.db, old, { actor: 'test' }), (err: CatchmentError) => {
        assert.deepEqual(
          err.errors.map((e) => `${e.path} ${e.code}`),
          ['/edges/3/dsrAddress DSR_ADDRESS_INVALID'],
        );
        assert.match(err.errors[0]!.message, /inside anycast 198\.18\.0\.0\/20, announced by "fra", "iad", "sin"/);
        return true;
      });
      const gue = demo();
      gue.edges[3].dsr = { encap: 'gue', clientPrefixes: [{ cidr: '2001:db8:ffff::/48', mode: 'always' }] };
      const res = await importConfig(database.db, gue, { actor: 'test' });
      assert.deepEqual(
        res.changes.map((c) => `${c.op} ${c.kind} ${c.key}`),
        ['update edges lhr'],
      );
      const lhr = (await exportConfig(database.db)).edges.find((e) => e.name === 'lhr');
      assert.deepEqual(lhr?.dsr, { encap: 'gue', clientPrefixes: [{ cidr: '2001:db8:ffff::/48', mode: 'always' }] });
      assert.deepEqual((await importConfig(database.db, demo(), { actor: 'test' })).changes.length, 1);
    });

    it('per-edge watermarks are stored, exported and compiled against the threshold; low above high is refused', async () => {
      const marked = demo();
      marked.settings = { ...(marked.settings ?? {}), watermarks: { low: 0.5, high: 0.9 } };
      marked.edges[3].watermarks = { low: 0.7, high: 0.7 };
      marked.edges[4].watermarks = false;
      await importConfig(database.db, marked, { actor: 'test' });
      const exported = await exportConfig(database.db);
      assert.deepEqual(exported.edges.find((e) => e.name === 'lhr')?.watermarks, { low: 0.7, high: 0.7 });
      assert.equal(exported.edges.find((e) => e.name === 'fra')?.watermarks, undefined);
      const body = await compileSnapshot(database.db);
      const lhr = body.edges.find((e) => e.name === 'lhr')!;
      const fra = body.edges.find((e) => e.name === 'fra')!;
      // lhr's own, × its SLO's 0.85; fra: the settings' default × the default threshold 0.85.
      assert.deepEqual(lhr.watermarks, { low: 0.7 * 0.85, high: 0.7 * 0.85, demandRps: null, percent: 0 });
      assert.deepEqual(fra.watermarks, { low: 0.5 * 0.85, high: 0.9 * 0.85, demandRps: null, percent: 0 });
      const off = marked.edges[4].name;
      assert.equal(exported.edges.find((e) => e.name === off)?.watermarks, false);
      assert.equal(body.edges.find((e) => e.name === off)?.watermarks, undefined, `${off}: no load spreading`);
      verifySnapshot(sealSnapshot(1, body));
      const bad = demo();
      bad.edges[0].watermarks = { low: 0.9, high: 0.8 };
      bad.settings = { watermarks: { low: 0.2, high: 1.5 } };
      await assert.rejects(importConfig(database.db, bad, { actor: 'test' }), (err: CatchmentError) => {
        assert.deepEqual(err.errors.map((e) => `${e.path} ${e.code ?? 'schema'}`).sort(), [
          '/edges/0/watermarks/low WATERMARKS_INVALID',
          '/settings/watermarks/high schema',
        ]);
        return true;
      });
      await importConfig(database.db, demo(), { actor: 'test' });
      assert.equal((await exportConfig(database.db)).edges.find((e) => e.name === 'lhr')?.watermarks, undefined);
    });

    it('applies a diff object by object', async () => {
      const next = demo();
      next.edges.find((e: { name: string }) => e.name === 'gru').capacity.rps = 25000;
      next.slos = [];
      next.playbooks[0].trigger = { alert: { alertname: 'EdgeHot' } };
      const res = await importConfig(database.db, next, { actor: 'test', reason: 'capacity upgrade' });
      const summary = res.changes.map((c) => `${c.op} ${c.kind} ${c.key}`).sort();
      assert.deepEqual(summary, [
        'delete slos lhr-utilisation',
        'update edges gru',
        'update playbooks shed-overloaded-edge',
      ]);
      const [audit] = rowsOf<{ reason: string; before: { capacity: { rps: number } } }>(
        await database.db.execute(
          sql`select reason, before from audit_log where object_id = 'gru' order by id desc limit 1`,
        ),
      );
      assert.equal(audit?.reason, 'capacity upgrade');
      assert.equal(audit?.before.capacity.rps, 20000);
    });

    it('enforces cross-row rules in the database itself', async () => {
      const fra = rowsOf<{ id: number }>(await database.db.execute(sql`select id from edges where name = 'fra'`))[0]!
        .id;
      const supernet = rowsOf<{ id: number }>(
        await database.db.execute(sql`select id from prefixes where cidr = '198.18.0.0/20'`),
      )[0]!.id;
      // Overlapping unicast blocks (exclusion constraint).
      await assert.rejects(
        database.db.insert(schema.prefixes).values({ cidr: '198.18.1.0/25', kind: 'unicast', edgeId: fra }),
      );
      // Unicast outside its declared supernet (trigger).
      await assert.rejects(
        database.db
          .insert(schema.prefixes)
          .values({ cidr: '203.0.113.0/24', kind: 'unicast', edgeId: fra, supernetId: supernet }),
      );
      // Invalid CIDR text never reaches a row (cidr type).
      await assert.rejects(
        database.db.insert(schema.prefixes).values({ cidr: '198.18.9.1/24', kind: 'unicast', edgeId: fra }),
      );
      // The audit log is append-only.
      await assert.rejects(database.db.execute(sql`update audit_log set actor = 'mallory'`));
      await assert.rejects(database.db.execute(sql`delete from audit_log`));
    });

    it('publishes a new snapshot version only when the compiled state changes', async () => {
      const v1 = await publishSnapshot(database.db, { actor: 'test' });
      assert.equal(v1.published, true);
      verifySnapshot(JSON.parse(JSON.stringify(v1.snapshot)));
      const same = await publishSnapshot(database.db, { actor: 'test' });
      assert.equal(same.published, false);
      assert.equal(same.snapshot.version, v1.snapshot.version);

      const lhr = rowsOf<{ id: number }>(await database.db.execute(sql`select id from edges where name = 'lhr'`))[0]!
        .id;
      await database.db.insert(schema.actions).values([
        {
          kind: 'withdraw-unicast',
          edgeId: lhr,
          params: { prefix: '198.18.4.0/24' },
          reason: 'test',
          actor: 't',
          source: 'operator',
        },
        { kind: 'dns-shift', edgeId: lhr, params: { percent: 25 }, reason: 'test', actor: 't', source: 'automation' },
        {
          kind: 'dsr-shed',
          edgeId: lhr,
          params: { fraction: 0.5, targets: ['fra', 'iad'] },
          reason: 't',
          actor: 't',
          source: 'automation',
        },
        {
          kind: 'communities',
          edgeId: lhr,
          params: { communities: ['64500:2002'] },
          reason: 't',
          actor: 't',
          source: 'automation',
        },
        // Expired: must not count.
        {
          kind: 'drain',
          edgeId: lhr,
          params: {},
          reason: 't',
          actor: 't',
          source: 'operator',
          expiresAt: new Date(Date.now() - 1000),
        },
        { kind: 'freeze', params: {}, reason: 'maintenance window', actor: 't', source: 'operator' },
      ]);
      const v2 = await publishSnapshot(database.db, { actor: 'test' });
      assert.equal(v2.published, true);
      assert.equal(v2.snapshot.version, v1.snapshot.version + 1);
      const body = verifySnapshot(JSON.parse(JSON.stringify(v2.snapshot))).body;
      const ann = body.announcements.filter((a) => a.edge === 'lhr');
      assert.deepEqual(
        ann.map((a) => [a.prefix, a.state]),
        [
          ['198.18.4.0/24', 'withdrawn'],
          ['2001:db8:104::/48', 'announced'],
        ],
      );
      assert.ok(ann.every((a) => a.communities.includes('64500:2002')));
      const supernetAnns = body.announcements.filter((a) => a.prefix === '198.18.0.0/20');
      assert.deepEqual(supernetAnns.map((a) => a.edge).sort(), ['fra', 'iad', 'sin']);
      const lhrEdge = body.edges.find((e) => e.name === 'lhr')!;
      assert.equal(lhrEdge.shiftPercent, 25);
      assert.equal(lhrEdge.override, 'none');
      assert.equal(lhrEdge.usable, true);
      const dsr = body.dsr.find((d) => d.edge === 'lhr')!;
      assert.equal(dsr.fraction, 32768);
      assert.deepEqual(
        dsr.targets.map((t) => t.edge),
        ['fra', 'iad'],
      );
      assert.ok(dsr.vips.some((v) => v.address === '198.18.4.10' && v.port === 443));
      assert.equal(body.automation.frozen, true);
    });
  });
}
