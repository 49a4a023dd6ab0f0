/**
 * Regenerates src/data/country-centroids.json: one [lat, lon] per ISO 3166-1 alpha-2 code,
 * the centroid of the largest polygon of the country's own land (territories that have a code of
 * their own, such as French Polynesia for FR, are left out; the largest polygon keeps distant
 * islands from pulling the point into the sea). countries-list has no coordinates; the
 * borders come from @rapideditor/country-coder (ISC), which is not a runtime dependency:
 *   npm install --no-save --prefix /tmp/cc @rapideditor/country-coder@5.6.1
 *   node packages/geo/scripts/gen-country-centroids.ts /tmp/cc/node_modules/@rapideditor/country-coder/dist/country-coder.mjs
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Ring = number[][];
interface Feature {
  properties: { iso1A2?: string };
  geometry: { type: string; coordinates: unknown } | null;
}
const here = dirname(fileURLToPath(import.meta.url));
const coderPath = process.argv[2];
if (!coderPath) throw new Error('usage: gen-country-centroids.ts <country-coder.mjs>');
const coder = await import(pathToFileURL(coderPath).href);
const countries = JSON.parse(
  readFileSync(join(here, '../node_modules/countries-list/countries.min.json'), 'utf8'),
) as Record<string, unknown>;

/** Planar centroid and area of a ring, longitude scaled by cos(latitude) of the ring. */
function ringCentroid(ring: Ring): { area: number; lat: number; lon: number } {
  let a = 0;
  let cx = 0;
  let cy = 0;
  const k = Math.cos(((ring[0]?.[1] ?? 0) * Math.PI) / 180);
  for (let i = 0; i < ring.length - 1; i++) {
    const [x0 = 0, y0 = 0] = ring[i] ?? [];
    const [x1 = 0, y1 = 0] = ring[i + 1] ?? [];
    const cross = x0 * k * y1 - x1 * k * y0;
    a += cross;
    cx += (x0 * k + x1 * k) * cross;
    cy += (y0 + y1) * cross;
  }
  if (a === 0) return { area: 0, lat: ring[0]?.[1] ?? 0, lon: ring[0]?.[0] ?? 0 };
  return { area: Math.abs(a / 2), lat: cy / (3 * a), lon: cx / (3 * a) / k };
}

const out: Record<string, [number, number]> = {};
for (const code of Object.keys(countries).sort()) {
  const members = (coder.featuresIn(code, true) as Feature[]).filter(
    (m) => !m.properties.iso1A2 || m.properties.iso1A2 === code || !(m.properties.iso1A2 in countries),
  );
  const own = coder.feature(code) as Feature | null;
  const features = members.length > 0 ? members : own ? [own] : [];
  let area = 0;
  let lat = 0;
  let lon = 0;
  for (const f of features) {
    const g = f.geometry;
    if (!g) continue;
    const polys = (g.type === 'Polygon' ? [g.coordinates] : g.coordinates) as Ring[][];
    for (const p of polys) {
      const c = ringCentroid(p[0] ?? []);
      if (c.area <= area) continue;
      area = c.area;
      lat = c.lat;
      lon = c.lon;
    }
  }
  if (area === 0) continue;
  out[code] = [Math.round(lat * 100) / 100, Math.round(lon * 100) / 100];
}
writeFileSync(join(here, '../src/data/country-centroids.json'), `${JSON.stringify(out)}\n`);
console.log(`${Object.keys(out).length} countries`);
