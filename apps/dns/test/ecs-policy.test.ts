import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sealSnapshot } from '@catchment/core';
import { ASN_DB, CITY_DB, demoBody } from '@catchment/testkit/geo-fixtures';
import { cityRecord, writeMmdb } from '@catchment/testkit/mmdb-writer';
import { createDnsServer } from '../src/index.ts';
import { dig, freePort, type Running, startServer } from './helpers.ts';

describe('ECS policy and GeoIP reload (real server)', () => {
  const running: Running[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'catchment-dns-geo-'));
  after(async () => {
    for (const s of running) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uses the resolver address for source /0 and answers with scope 0', async () => {
    const s = await startServer(demoBody(), { geo: { city: CITY_DB, asn: ASN_DB, watch: false } });
    running.push(s);
    const out = await dig(s.port, 'www.example.net', 'A', '+subnet=0.0.0.0/0');
    assert.match(out, /CLIENT-SUBNET: 0\.0\.0\.0\/0\/0/);
    assert.match(out, /198\.18\.0\.1/, '127.0.0.1 is private → anycast');
  });

  it('ignores ECS from resolvers outside the trusted list', async () => {
    const s = await startServer(demoBody(), {
      geo: { city: CITY_DB, asn: ASN_DB, watch: false },
      ecsTrustedResolvers: ['192.0.2.0/24'],
    });
    running.push(s);
    const out = await dig(s.port, 'www.example.net', 'A', '+subnet=81.2.69.142/32');
    assert.match(out, /198\.18\.0\.1/, 'decided by the (private) resolver address, not the client subnet');
    assert.match(out, /CLIENT-SUBNET: 81\.2\.69\.142\/32\/0/, 'scope 0: the answer does not depend on the subnet');
  });

  it('rebuilds its tables when the GeoIP file changes on disk', async () => {
    const file = join(dir, 'city.mmdb');
    writeFileSync(file, writeMmdb([{ cidr: '198.51.100.0/24', data: cityRecord('GB', 'EU', 51.5, -0.1) }]));
    const s = await startServer(demoBody(), { geo: { city: file, watchIntervalMs: 100 } });
    running.push(s);
    const ask = async () => (await dig(s.port, '+short', 'www.example.net', '+subnet=198.51.100.0/24')).trim();
    assert.equal(await ask(), '198.18.4.10', 'GB → lhr');
    writeFileSync(`${file}.new`, writeMmdb([{ cidr: '198.51.100.0/24', data: cityRecord('AU', 'OC', -33.9, 151.2) }]));
    renameSync(`${file}.new`, file);
    let answer = '';
    for (let i = 0; i < 100 && answer !== '198.18.6.10'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await ask();
    }
    assert.equal(answer, '198.18.6.10', 'AU (Oceania) → syd after the reload');
  });

  it('re-reads the GeoIP files on reload (SIGHUP in the standalone server)', async () => {
    const file = join(dir, 'city-reload.mmdb');
    writeFileSync(file, writeMmdb([{ cidr: '198.51.100.0/24', data: cityRecord('GB', 'EU', 51.5, -0.1) }]));
    const port = await freePort();
    const server = await createDnsServer({
      listen: [{ address: '127.0.0.1', port }],
      workers: 1,
      geo: { city: file, watch: false },
      snapshot: sealSnapshot(1, demoBody()),
    });
    try {
      const ask = async () => (await dig(port, '+short', 'www.example.net', '+subnet=198.51.100.0/24')).trim();
      assert.equal(await ask(), '198.18.4.10');
      writeFileSync(
        `${file}.new`,
        writeMmdb([{ cidr: '198.51.100.0/24', data: cityRecord('BR', 'SA', -23.5, -46.6) }]),
      );
      renameSync(`${file}.new`, file);
      assert.equal(await ask(), '198.18.4.10', 'not watching: still the old data');
      await server.reload();
      assert.equal(await ask(), '198.18.5.10', 'BR → gru after the reload');
    } finally {
      await server.close();
    }
  });
});
