/**
 * A synthetic, full-size GeoIP2-City database: MaxMind's City layout and roughly GeoLite2-City's
 * size (3.0 M IPv4 and 0.5 M IPv6 networks, 69 MB, ~100 k cities over all countries), with
 * country-sized runs of address space split top-down (IPv4: 31 % /24, 20 % /16-/23, 49 %
 * /25-/32; IPv6: /32-/64, mostly /48-/64), neighbouring networks often in the same city, unlisted
 * gaps. MaxMind's real file cannot be shipped here; memory and build time depend on size and
 * shape, which this approximates (with more small networks than real data: errs on the high side).
 * Deterministic (seeded); generated once into .cache/ (ignored by git).
 *
 * `node bench/full-city-db.ts` generates (if needed) and prints the path.
 */
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { countryCentroid, countryContinent } from '../packages/geo/src/countries.ts';
import centroids from '../packages/geo/src/data/country-centroids.json' with { type: 'json' };
import { BigMmdbWriter } from './mmdb-big-writer.ts';

const VERSION = 1;
const CITIES = 100_000;
const IPV6_ALLOCATIONS = 24_000;

/** Share of the address space per country (rough real proportions); the rest share 14. */
const WEIGHTS: Record<string, number> = {
  US: 38,
  CN: 9,
  JP: 5,
  DE: 3.5,
  GB: 3,
  KR: 3,
  BR: 2.5,
  FR: 2.5,
  CA: 2,
  IT: 1.5,
  RU: 1.3,
  AU: 1.3,
  IN: 1.2,
  NL: 1.2,
  ES: 1,
  MX: 0.9,
  SE: 0.8,
  TW: 0.8,
  PL: 0.6,
  ZA: 0.5,
};

interface City {
  id: number;
  country: string;
  lat: number;
  lon: number;
}

let seed = 0x5eed;
function rand(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  // The low bits of this LCG are poor: mix before use.
  let x = seed ^ (seed >>> 15);
  x = Math.imul(x, 0x2c1b3c6d) >>> 0;
  return ((x ^ (x >>> 12)) >>> 0) / 4294967296;
}

function pick<T>(items: T[], weight: (t: T) => number, total: number): T {
  let r = rand() * total;
  for (const t of items) {
    r -= weight(t);
    if (r <= 0) return t;
  }
  return items[items.length - 1]!;
}

/** A prefix length from a distribution (each entry: [length, weight]). */
function lengthFrom(dist: [number, number][]): number {
  return pick(
    dist,
    (d) => d[1],
    dist.reduce((n, d) => n + d[1], 0),
  )[0];
}

// IPv4 networks come from splitting blocks top-down: the chance that a block of each prefix
// length stays one network. Tuned for GeoLite2-City's count (~3 M IPv4 networks), few larger
// than /16, many /24, and small ones (hosting, mobile).
const V4_LEAF = [...new Array(16).fill(0), ...new Array(8).fill(0.27), 0.85, ...new Array(7).fill(0.5), 1];
const V6_LENGTHS: [number, number][] = [
  [32, 4],
  [36, 3],
  [40, 6],
  [44, 10],
  [47, 4],
  [48, 50],
  [52, 4],
  [56, 9],
  [64, 10],
];

function cities(countries: string[], weight: (c: string) => number): Map<string, City[]> {
  const total = countries.reduce((n, c) => n + weight(c) ** 0.7, 0);
  const out = new Map<string, City[]>();
  let id = 1;
  for (const country of countries) {
    const c = countryCentroid(country)!;
    const n = Math.max(3, Math.round((CITIES * weight(country) ** 0.7) / total));
    const spread = 1 + 8 * Math.min(1, weight(country) / 10);
    const list: City[] = [];
    for (let i = 0; i < n; i++) {
      const lat = Math.max(-85, Math.min(85, c.lat + (rand() - 0.5) * spread));
      let lon = c.lon + (rand() - 0.5) * 2 * spread;
      if (lon > 180) lon -= 360;
      if (lon < -180) lon += 360;
      list.push({ id: id++, country, lat: Math.round(lat * 1e4) / 1e4, lon: Math.round(lon * 1e4) / 1e4 });
    }
    out.set(country, list);
  }
  return out;
}

/**
 * The record as GeoLite2-City holds it, with fewer translations: MaxMind's files share repeated
 * maps through pointers, which this writer does not, so all names would make the file too big.
 */
function cityRecord(city: City, continent: string) {
  const name = `City ${city.country}-${city.id}`;
  const countryId = 2_000_000 + city.country.charCodeAt(0) * 256 + city.country.charCodeAt(1);
  return {
    city: { geoname_id: 1_000_000 + city.id, names: { de: name, en: name } },
    continent: { code: continent, geoname_id: 6_255_000 + continent.charCodeAt(0) },
    country: { geoname_id: countryId, iso_code: city.country, names: { en: `Country ${city.country}` } },
    location: {
      accuracy_radius: { uint16: 5 + (city.id % 500) },
      latitude: { double: city.lat },
      longitude: { double: city.lon },
      time_zone: `Etc/GMT${Math.round(-city.lon / 15) >= 0 ? '+' : ''}${Math.round(-city.lon / 15)}`,
    },
    registered_country: { geoname_id: countryId, iso_code: city.country },
    subdivisions: [{ geoname_id: 3_000_000 + (city.id % 5000), iso_code: String(city.id % 50) }],
  };
}

/** IPv4 ranges that real databases do not list (private, loopback, shared, multicast+). */
const V4_SKIP: [number, number][] = [
  [0x0a000000, 8],
  [0x64400000, 10],
  [0x7f000000, 8],
  [0xa9fe0000, 16],
  [0xac100000, 12],
  [0xc0a80000, 16],
];

export interface CityDbInfo {
  path: string;
  ipv4: number;
  ipv6: number;
  cities: number;
  bytes: number;
}

function generate(path: string): void {
  const started = performance.now();
  const countries = Object.keys(centroids).filter((c) => countryContinent(c) && countryCentroid(c));
  const weight = (c: string) => WEIGHTS[c] ?? 14 / (countries.length - Object.keys(WEIGHTS).length);
  const totalWeight = countries.reduce((n, c) => n + weight(c), 0);
  const byCountry = cities(countries, weight);
  const w = new BigMmdbWriter();
  const bytes = new Uint8Array(16);
  let cityOf: City | undefined;
  const refFor = (country: string): number => {
    // Neighbouring networks are often in the same city.
    if (!cityOf || cityOf.country !== country || rand() > 0.55) {
      const list = byCountry.get(country)!;
      cityOf = list[Math.floor(rand() * list.length)]!;
    }
    const c = cityOf;
    return w.record(String(c.id), () => cityRecord(c, countryContinent(c.country)!));
  };
  const progress = (what: string) => {
    if (w.networks % 500_000 === 0) {
      console.log(
        `  ${what}: ${w.networks} networks, ${w.nodeCount} nodes, ${Math.round(performance.now() - started)} ms`,
      );
    }
  };

  const insert4 = (at: number, len: number) => {
    bytes.fill(0);
    bytes[12] = at >>> 24;
    bytes[13] = (at >>> 16) & 0xff;
    bytes[14] = (at >>> 8) & 0xff;
    bytes[15] = at & 0xff;
    w.insert(bytes, len + 96, refFor(country4));
    progress('IPv4');
  };
  const splitBlock = (at: number, len: number): void => {
    if (rand() < V4_LEAF[len]!) {
      if (rand() >= 0.06) insert4(at, len); // else: unlisted space
      return;
    }
    splitBlock(at, len + 1);
    splitBlock(at + 2 ** (31 - len), len + 1);
  };
  let country4 = '';

  // IPv4: runs of address space (an allocation of one country), networks one after another.
  let pos = 0x01000000;
  const end = 0xe0000000;
  while (pos < end) {
    const skip = V4_SKIP.find(([s, l]) => pos >= s && pos < s + 2 ** (32 - l));
    if (skip) {
      pos = skip[0] + 2 ** (32 - skip[1]);
      continue;
    }
    country4 = pick(countries, weight, totalWeight);
    const runEnd = Math.min(end, pos + 2 ** (32 - 12) * (1 + Math.floor(rand() * 4)));
    // Top-down: a block is one network or two halves, so every network is aligned and
    // the run is covered except for unlisted leaves.
    for (let at = pos; at < runEnd; at += 2 ** 20) splitBlock(at, 12);
    pos = runEnd;
  }
  const ipv4 = w.networks;
  console.log(`  IPv4 done: ${ipv4} networks, ${w.nodeCount} nodes`);

  // IPv6: allocations (a /32 of one country, at sorted random places in 2001::/16-2c0f::/16),
  // each holding a run of networks; positions counted in /64 units (the upper 64 bits).
  const first32 = 0x20010000;
  const span32 = 0x2c100000 - first32;
  const bases = new Set<number>();
  while (bases.size < IPV6_ALLOCATIONS) bases.add(first32 + Math.floor(rand() * span32));
  for (const base of [...bases].sort((a, b) => a - b)) {
    const country = pick(countries, weight, totalWeight);
    const count = 1 + Math.floor(rand() * 48);
    let unit = 0n; // /64 units inside the /32
    const limit = 1n << 32n;
    for (let i = 0; i < count && unit < limit; i++) {
      let len = i === 0 && rand() < 0.08 ? 32 : lengthFrom(V6_LENGTHS);
      while (len < 64 && (unit % (1n << BigInt(64 - len)) !== 0n || unit + (1n << BigInt(64 - len)) > limit)) len++;
      const hi = (BigInt(base) << 32n) | unit;
      bytes.fill(0);
      for (let b = 0; b < 8; b++) bytes[b] = Number((hi >> BigInt(56 - 8 * b)) & 0xffn);
      w.insert(bytes, len, refFor(country));
      progress('IPv6');
      unit += 1n << BigInt(64 - len);
      if (rand() < 0.15) unit += (1n << 16n) * BigInt(1 + Math.floor(rand() * 64)); // unlisted /48s
    }
  }
  const tmp = `${path}.tmp`;
  w.write(tmp, {
    databaseType: 'GeoIP2-City',
    description: 'Catchment synthetic full-size City database (benchmarks only)',
    buildEpoch: 1_763_000_000,
  });
  renameSync(tmp, path);
  console.log(
    `  wrote ${path}: ${ipv4} IPv4 + ${w.networks - ipv4} IPv6 networks, ${w.nodeCount} nodes, ` +
      `${(w.dataBytes / 1e6).toFixed(1)} MB of data, ` +
      `${(statSync(path).size / 1e6).toFixed(1)} MB, ${Math.round(performance.now() - started)} ms`,
  );
}

/** Path of the cached database, generated first if needed (~1 min, bounded by its fixed size). */
export function fullCityDb(cacheDir = join(import.meta.dirname, '..', '.cache', 'geo')): string {
  const path = join(cacheDir, `synthetic-city-v${VERSION}.mmdb`);
  if (!existsSync(path)) {
    mkdirSync(cacheDir, { recursive: true });
    console.log(`generating the synthetic full-size City database into ${cacheDir}...`);
    generate(path);
  }
  return path;
}

if (import.meta.main) console.log(fullCityDb());
