import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ASN_DB, CITY_DB } from '@catchment/testkit/geo-fixtures';
import { cityRecord, writeMmdb } from '@catchment/testkit/mmdb-writer';
import { GeoDb, parseAddress, parseNetwork } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'catchment-geo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('GeoDb readers', () => {
  it('reads MaxMind City and ASN test databases with prefix lengths', () => {
    const geo = new GeoDb({ city: CITY_DB, asn: ASN_DB, watch: false });
    const london = geo.locate(parseAddress('81.2.69.142')!);
    assert.equal(london.geo?.country, 'GB');
    assert.equal(london.geo?.continent, 'EU');
    assert.equal(london.geo?.precision, 'city');
    assert.equal(london.length, 31);
    assert.equal(geo.locate(parseAddress('216.160.83.56')!).geo?.country, 'US');
    assert.equal(geo.locate(parseAddress('175.16.199.0')!).geo?.country, 'CN');
    const miss = geo.locate(parseAddress('10.1.1.1')!);
    assert.equal(miss.geo, undefined);
    assert.ok(miss.length > 0, 'a miss still reports its block');
    assert.equal(geo.asn(parseAddress('1.128.0.1')!).asn, 1221);
    geo.close();
  });

  it('reads a released file again for the next lookup or walk, with the same answers', () => {
    const geo = new GeoDb({ city: CITY_DB, asn: ASN_DB, watch: false });
    const networks = () => {
      const out: string[] = [];
      geo.forEachLocation(4, (bytes, length, g) => out.push(`${bytes.join('.')}/${length} ${g.country}`));
      return out;
    };
    const before = networks();
    assert.ok(before.length > 10);
    geo.releaseFiles();
    assert.equal(geo.locate(parseAddress('81.2.69.142')!).geo?.country, 'GB');
    assert.equal(geo.asn(parseAddress('1.128.0.1')!).asn, 1221);
    geo.releaseFiles();
    assert.deepEqual(networks(), before);
    geo.close();
  });

  it('looks IPv4-mapped IPv6 up as IPv4', () => {
    const geo = new GeoDb({ city: CITY_DB, watch: false });
    const mapped = parseAddress('::ffff:81.2.69.142')!;
    assert.equal(mapped.family, 4);
    assert.deepEqual(geo.locate(mapped), geo.locate(parseAddress('81.2.69.142')!));
    assert.equal(parseNetwork('::ffff:81.2.69.0/120')?.length, 24);
    geo.close();
  });

  it('uses the embedded country database by default, with continent and centroid', () => {
    const geo = new GeoDb({ watch: false });
    const r = geo.locate(parseAddress('::ffff:8.8.8.8')!);
    assert.equal(r.geo?.country, 'US');
    assert.equal(r.geo?.continent, 'NA');
    assert.equal(r.geo?.precision, 'country');
    assert.ok(r.length >= 8 && r.length <= 24);
    assert.equal(geo.describe().layout, 'flat');
    geo.close();
  });

  it('reloads a database file replaced on disk', async () => {
    const file = join(dir, 'city.mmdb');
    writeFileSync(file, writeMmdb([{ cidr: '192.0.2.0/24', data: cityRecord('GB', 'EU', 51.5, -0.1) }]));
    const geo = new GeoDb({ city: file, watchIntervalMs: 50 });
    assert.equal(geo.locate(parseAddress('192.0.2.1')!).geo?.country, 'GB');
    let changed = false;
    geo.once('change', () => {
      changed = true;
    });
    const replacement = writeMmdb([
      { cidr: '192.0.2.0/24', data: cityRecord('DE', 'EU', 50.1, 8.6) },
      { cidr: '198.51.100.0/24', data: cityRecord('AU', 'OC', -33.9, 151.2) },
    ]);
    // Replaced atomically, as updaters do. The watcher's baseline is its first (asynchronous)
    // stat: if that came after the rename, nothing changes for it, so replace again (bounded).
    const tmp = join(dir, 'city.mmdb.new');
    for (let attempt = 0; attempt < 20 && !changed; attempt++) {
      writeFileSync(tmp, replacement);
      renameSync(tmp, file);
      for (let i = 0; i < 20 && !changed; i++) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(changed, 'the watcher saw the new file');
    assert.equal(geo.locate(parseAddress('192.0.2.1')!).geo?.country, 'DE');
    assert.equal(geo.locate(parseAddress('198.51.100.9')!).geo?.country, 'AU');
    geo.close();
  });
});
