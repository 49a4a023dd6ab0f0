import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { demoBody } from '@catchment/testkit/geo-fixtures';
import { writeMmdb } from '@catchment/testkit/mmdb-writer';
import { buildSteering, countryCentroid, explainClient, GeoDb } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'catchment-countries-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Great-circle distance in km. */
function km(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const r = Math.PI / 180;
  const h =
    Math.sin(((b.lat - a.lat) * r) / 2) ** 2 +
    Math.cos(a.lat * r) * Math.cos(b.lat * r) * Math.sin(((b.lon - a.lon) * r) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

describe('country centroids (country-level clients)', () => {
  it('place a country where its people are, not in its geometric middle', () => {
    // The previous centroids: GB in the Scottish Highlands, JP, ID, IT and NO at sea.
    for (const [code, city, lat, lon, within] of [
      ['GB', 'London', 51.51, -0.13, 200],
      ['JP', 'Tokyo', 35.69, 139.69, 300],
      ['ID', 'Jakarta', -6.21, 106.85, 300],
      ['IT', 'Rome', 41.89, 12.51, 200],
      ['NO', 'Oslo', 59.91, 10.75, 200],
      ['US', 'St. Louis', 38.63, -90.2, 400],
    ] as const) {
      const c = countryCentroid(code);
      assert.ok(c, code);
      const d = km(c, { lat, lon });
      assert.ok(d < within, `${code} at ${c.lat}, ${c.lon}: ${Math.round(d)} km from ${city}`);
    }
  });

  it('send country-level clients to the nearest demo edge', () => {
    // A City database that knows only the country (as many blocks are): the centroid decides.
    const countries = ['GB', 'NO', 'OM', 'ZW', 'JP', 'US', 'IT', 'ID', 'IN', 'AR'];
    const file = join(dir, 'country-only.mmdb');
    writeFileSync(
      file,
      writeMmdb(
        countries.map((country, i) => ({
          cidr: `198.51.${i}.0/24`,
          data: { country: { iso_code: country } },
        })),
      ),
    );
    const geo = new GeoDb({ city: file, watch: false });
    const body = demoBody();
    body.policies[0]!.rules = []; // nearest edge only
    const table = buildSteering(body, geo);
    const edgeOf = (i: number) =>
      explainClient(body, table, geo, { name: 'www.example.net', client: `198.51.${i}.0/24` })?.edge;
    const got = Object.fromEntries(countries.map((c, i) => [c, edgeOf(i)]));
    assert.deepEqual(got, {
      GB: 'lhr',
      NO: 'fra', // Oslo is nearer Frankfurt than London; the old point (65.7 N) chose lhr
      OM: 'fra', // Muscat: the old point in the southern desert chose sin
      ZW: 'fra', // Harare: the old point chose gru
      JP: 'sin',
      US: 'iad',
      IT: 'fra',
      ID: 'sin',
      IN: 'sin',
      AR: 'gru',
    });
    geo.close();
  });
});
