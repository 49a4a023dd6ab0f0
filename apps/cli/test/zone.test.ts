import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createToken, type StartedApi, startApi } from '@catchment/api';
import type { Database } from '@catchment/db';
import { DB_MODES, freshDatabase, runCli, tempDir } from '@catchment/testkit';
import { parse, stringify } from 'yaml';
import { formatZoneFile, parseZoneFile } from '../src/zone/zonefile.ts';

const DEMO = new URL('../../../config/demo.yaml', import.meta.url).pathname;

/** A zone as BIND users write them: comments, a multi-line SOA, inherited owners, a second $ORIGIN. */
const ZONE = `; example.net, exported from BIND 9
$ORIGIN example.net.
$TTL 1h
@       IN  SOA ns1.example.net. hostmaster.example.net. (
                2026120601 ; serial
                7200       ; refresh
                900        ; retry
                1209600    ; expire
                300 )      ; negative TTL
        IN  NS  ns1
        IN  NS  ns2.example.org.
        IN  MX  10 mail
        IN  MX  20 mx2.example.org.
        IN  TXT "v=spf1 mx -all" "include:_spf.example.org; ~all"
        IN  CAA 0 issue "letsencrypt.org"
ns1     IN  A     192.0.2.53
        IN  AAAA  2001:db8::53
mail 300 IN A     192.0.2.25
docs    IN  CNAME www
_imaps._tcp IN SRV 0 1 993 mail
dkim._domainkey IN TXT ( "v=DKIM1; k=rsa; "
                         "p=MIIBIjANBgkqh" )
$ORIGIN lab.example.net.
gw      IN  A     192.0.2.1
`;

describe('zone files', () => {
  it('reads $ORIGIN, $TTL, parentheses, inherited owners and several strings, qualifying names in record data', () => {
    const { zone } = parseZoneFile(ZONE);
    assert.equal(zone.name, 'example.net');
    assert.equal(zone.ttl, 3600);
    assert.deepEqual(zone.soa, {
      mname: 'ns1.example.net.',
      rname: 'hostmaster.example.net.',
      serial: 2026120601,
      refresh: 7200,
      retry: 900,
      expire: 1209600,
      minimum: 300,
    });
    assert.deepEqual(zone.ns, ['ns1.example.net.', 'ns2.example.org.']);
    const rec = (name: string, type: string) => zone.records.filter((r) => r.name === name && r.type === type);
    assert.deepEqual(
      rec('@', 'MX').map((r) => r.value),
      ['10 mail.example.net.', '20 mx2.example.org.'],
    );
    assert.equal(rec('@', 'TXT')[0]?.value, '"v=spf1 mx -all" "include:_spf.example.org; ~all"');
    assert.equal(rec('@', 'CAA')[0]?.value, '0 issue "letsencrypt.org"');
    assert.equal(rec('ns1', 'AAAA')[0]?.value, '2001:db8::53', 'an indented line inherits the owner');
    assert.deepEqual(rec('mail', 'A')[0], { name: 'mail', type: 'A', ttl: 300, value: '192.0.2.25' });
    assert.equal(rec('docs', 'CNAME')[0]?.value, 'www.example.net.');
    assert.equal(rec('_imaps._tcp', 'SRV')[0]?.value, '0 1 993 mail.example.net.');
    assert.equal(rec('dkim._domainkey', 'TXT')[0]?.value, '"v=DKIM1; k=rsa; " "p=MIIBIjANBgkqh"');
    assert.equal(rec('gw.lab', 'A')[0]?.value, '192.0.2.1', 'the second $ORIGIN applies');
    assert.equal(zone.records.length, 11);
    // What it writes, it reads back the same.
    assert.deepEqual(parseZoneFile(formatZoneFile(zone)).zone, zone);
  });

  it('refuses $INCLUDE, unreadable lines, unsupported types and records outside the zone, all listed', () => {
    assert.throws(() => parseZoneFile(`$ORIGIN a.test.\n$INCLUDE /etc/passwd\n`), /line 2: \$INCLUDE is not supported/);
    const bad = `$ORIGIN a.test.\n@ IN SOA ns1 host 1 2 3 4 5\n IN NS ns1\nwww IN A\nx IN DNSKEY 257 3 8 AwEAAa\nfar.other.test. IN A 192.0.2.1\n`;
    assert.throws(
      () => parseZoneFile(bad),
      (err: { lines: string[] }) => {
        assert.equal(err.lines.length, 3, err.lines.join('\n'));
        assert.match(err.lines[0] ?? '', /www\.a\.test: cannot read the record "IN A"/);
        assert.match(err.lines[1] ?? '', /x\.a\.test DNSKEY: type DNSKEY is not served/);
        assert.match(err.lines[2] ?? '', /far\.other\.test A: outside the zone a\.test/);
        return true;
      },
    );
    const skipped = parseZoneFile(bad.replace('www IN A\n', '').replace(/far.*\n/, ''), { skipUnsupported: true });
    assert.deepEqual(skipped.skipped, ['x.a.test DNSKEY']);
  });

  for (const mode of DB_MODES) {
    describe(`import, apply and export round trip through the API (${mode})`, () => {
      let dir: Awaited<ReturnType<typeof tempDir>>;
      let database: Database;
      let api: StartedApi;
      let env: Record<string, string>;
      before(async () => {
        dir = await tempDir();
        database = await freshDatabase(mode);
        const token = (await createToken(database.db, { name: 'zone-admin', role: 'admin' })).token;
        api = await startApi({ database, port: 0, explain: null });
        env = { CATCHMENT_API_URL: api.url, CATCHMENT_API_TOKEN: token, HOME: dir.path };
      });
      after(async () => {
        await api.close();
        await database.close();
        await dir.remove();
      });

      it('a zone file becomes the zone of the configuration, and comes back out the same', async () => {
        const file = join(dir.path, 'db.example.net');
        await writeFile(file, ZONE);
        const conf = join(dir.path, 'conf');
        await mkdir(conf);
        const imported = await runCli(['zone', 'import', file, '-f', join(conf, 'zone-example.net.yaml')], env);
        assert.equal(imported.code, 0, imported.stderr);
        assert.match(imported.stderr, /zone example\.net: 11 record\(s\), 2 NS/);
        const { zones: _, ...rest } = parse(await readFile(DEMO, 'utf8'));
        await writeFile(join(conf, 'demo.yaml'), stringify(rest));
        const applied = await runCli(['apply', conf, '--doit'], env);
        assert.equal(applied.code, 0, applied.stderr + applied.stdout);

        const exported = await runCli(['zone', 'export', 'example.net'], env);
        assert.equal(exported.code, 0, exported.stderr);
        assert.match(exported.stdout, /^\$ORIGIN example\.net\.$/m);
        // The same zone; the export lists records in the database's order.
        const sorted = (text: string) => {
          const { zone } = parseZoneFile(text);
          return { ...zone, records: zone.records.map((r) => JSON.stringify(r)).sort() };
        };
        assert.deepEqual(sorted(exported.stdout), sorted(ZONE));
        const missing = await runCli(['zone', 'export', 'nope.test'], env);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /^catchment: NOT_FOUND: zone "nope\.test" does not exist\n$/);
      });
    });
  }
});
