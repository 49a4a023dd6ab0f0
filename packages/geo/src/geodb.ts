import { EventEmitter } from 'node:events';
import { readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type Response } from 'maxmind';
import { countryCentroid, countryContinent } from './countries.ts';
import { type Address, type Family, formatAddress } from './ip.ts';
import { type TreeInfo, walkTree } from './mmdb-tree.ts';

/** Where a client is, as far as the databases know. */
export interface GeoInfo {
  country: string;
  continent: string;
  lat: number;
  lon: number;
  /** `city`: coordinates from the database; `country`: the country's centroid. */
  precision: 'city' | 'country';
}

export interface GeoOptions {
  /** GeoIP2 / GeoLite2 City (or Country) file, MaxMind layout. */
  city?: string;
  /** GeoLite2 ASN file. */
  asn?: string;
  /** Flat `{ country_code }` layout (ip-location-db); the embedded default when no city is given. */
  country?: string;
  /** Watch the files and reload them when they change on disk (default true). */
  watch?: boolean;
  watchIntervalMs?: number;
}

type Layout = 'city' | 'asn' | 'flat';
type Rec = CityRecord & FlatRecord & AsnRecord;

interface CityRecord {
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  continent?: { code?: string };
  location?: { latitude?: number; longitude?: number };
}
interface FlatRecord {
  country_code?: string;
}
interface AsnRecord {
  autonomous_system_number?: number;
  autonomous_system_organization?: string;
}

/** One MMDB file: the maxmind reader for single lookups and the raw tree for walking. */
class DbFile {
  readonly path: string;
  readonly layout: Layout;
  #reader: Reader<Response> | undefined;
  #db: Buffer | undefined;
  info!: TreeInfo;
  loadedAt = 0;
  buildEpoch = 0;
  /** Decoded facts by data pointer, for whole-tree walks (cleared on load). */
  readonly records = new Map<number, unknown>();

  constructor(path: string, layout: Layout) {
    this.path = path;
    this.layout = layout;
    this.load();
  }

  /** The file's bytes, read again if `release` dropped them. */
  get db(): Buffer {
    if (!this.#db) this.#open();
    return this.#db!;
  }

  get reader(): Reader<Response> {
    if (!this.#reader) this.#open();
    return this.#reader!;
  }

  /** The record of an address and the matched prefix length (records are plain JSON). */
  get(ip: string): [Rec | null, number] {
    return this.reader.getWithPrefixLength(ip) as unknown as [Rec | null, number];
  }

  load(): void {
    this.#open();
    this.records.clear();
    this.loadedAt = Date.now();
    this.buildEpoch = this.#reader!.metadata.buildEpoch.getTime();
  }

  /**
   * Drops the file's bytes (a full-size City file is ~70 MB) until the next lookup or walk reads
   * them again: a DNS server's tables hold everything its answers need.
   */
  release(): void {
    this.#db = undefined;
    this.#reader = undefined;
  }

  #open(): void {
    const db = readFileSync(this.path);
    const reader = new Reader<Response>(db);
    this.#db = db;
    this.#reader = reader;
    // From the bytes just read, so that a walk never pairs one file's tree with another's shape.
    this.info = {
      nodeCount: reader.metadata.nodeCount,
      recordSize: reader.metadata.recordSize,
      ipVersion: reader.metadata.ipVersion,
    };
  }
}

/** The embedded default: country level, CC0, from @ip-location-db/geo-whois-asn-country-mmdb. */
export function defaultCountryDb(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/package.json');
  return pkg.replace(/package\.json$/, 'geo-whois-asn-country.mmdb');
}

function cityInfo(rec: CityRecord | null): GeoInfo | undefined {
  if (!rec) return undefined;
  const country = rec.country?.iso_code ?? rec.registered_country?.iso_code;
  if (!country) return undefined;
  const continent = rec.continent?.code ?? countryContinent(country);
  if (!continent) return undefined;
  const lat = rec.location?.latitude;
  const lon = rec.location?.longitude;
  if (typeof lat === 'number' && typeof lon === 'number') return { country, continent, lat, lon, precision: 'city' };
  const c = countryCentroid(country);
  if (!c) return undefined;
  return { country, continent, lat: c.lat, lon: c.lon, precision: 'country' };
}

function flatInfo(rec: FlatRecord | null): GeoInfo | undefined {
  const country = rec?.country_code;
  if (!country) return undefined;
  const continent = countryContinent(country);
  const c = countryCentroid(country);
  if (!continent || !c) return undefined;
  return { country, continent, lat: c.lat, lon: c.lon, precision: 'country' };
}

export interface LocationResult {
  geo: GeoInfo | undefined;
  /** Prefix length of the network that matched (or of the empty block), in the family's space. */
  length: number;
}

export interface AsnResult {
  asn: number | undefined;
  organization: string | undefined;
  length: number;
}

/**
 * The GeoIP databases: a location source (City or flat country file) and an optional ASN file.
 * Emits 'change' after a file was reloaded; consumers rebuild their answer tables then.
 */
export class GeoDb extends EventEmitter {
  readonly location: DbFile;
  readonly asnDb: DbFile | undefined;
  readonly #watched: string[] = [];
  version = 1;

  constructor(opts: GeoOptions = {}) {
    super();
    this.location = opts.city ? new DbFile(opts.city, 'city') : new DbFile(opts.country ?? defaultCountryDb(), 'flat');
    this.asnDb = opts.asn ? new DbFile(opts.asn, 'asn') : undefined;
    if (opts.watch ?? true) {
      for (const f of [this.location, this.asnDb]) if (f) this.#watch(f, opts.watchIntervalMs ?? 2000);
    }
  }

  #watch(file: DbFile, interval: number): void {
    this.#watched.push(file.path);
    // Polling survives the atomic rename that database updaters use (inotify on the old inode would not).
    watchFile(file.path, { interval, persistent: false }, (cur, prev) => {
      if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size) return;
      if (cur.size === 0) return;
      try {
        file.load();
        this.version++;
        this.emit('change', file.path);
      } catch (err) {
        this.emit('error', err);
      }
    });
  }

  /** Re-reads every file now (an operator's reload); emits nothing, the caller rebuilds. */
  reload(): void {
    for (const f of [this.location, this.asnDb]) f?.load();
    this.version++;
  }

  close(): void {
    for (const p of this.#watched) unwatchFile(p);
    this.#watched.length = 0;
  }

  describe(): { location: string; layout: Layout; asn: string | undefined; version: number } {
    return { location: this.location.path, layout: this.location.layout, asn: this.asnDb?.path, version: this.version };
  }

  #info(rec: (CityRecord & FlatRecord) | null): GeoInfo | undefined {
    return this.location.layout === 'flat' ? flatInfo(rec) : cityInfo(rec);
  }

  /** Location of one address (IPv4-mapped IPv6 must already be IPv4: see parseAddress). */
  locate(addr: Address): LocationResult {
    const [rec, length] = this.location.get(formatAddress(addr));
    return { geo: this.#info(rec), length: clampLength(addr.family, this.location.info.ipVersion, length) };
  }

  asn(addr: Address): AsnResult {
    if (!this.asnDb) return { asn: undefined, organization: undefined, length: addr.family === 4 ? 32 : 128 };
    const [rec, length] = this.asnDb.get(formatAddress(addr));
    return {
      asn: rec?.autonomous_system_number,
      organization: rec?.autonomous_system_organization,
      length: clampLength(addr.family, this.asnDb.info.ipVersion, length),
    };
  }

  /**
   * Every located network of one family. Each distinct data record is decoded once per file load
   * (both families share them) and always yields the same GeoInfo object, so callers can key
   * on the object. `bytes` is reused between calls (see walkTree).
   */
  forEachLocation(family: Family, visit: (bytes: Uint8Array, length: number, geo: GeoInfo) => void): void {
    const file = this.location;
    const cache = file.records as Map<number, GeoInfo | null>;
    let lastPointer = -1;
    let last: GeoInfo | null = null;
    walkTree(file.db, file.info, family, (bytes, length, pointer) => {
      let geo = pointer === lastPointer ? last : cache.get(pointer);
      if (geo === undefined) {
        geo = this.#info(file.get(formatAddress({ family, bytes }))[0]) ?? null;
        cache.set(pointer, geo);
      }
      lastPointer = pointer;
      last = geo;
      if (geo) visit(bytes, length, geo);
    });
  }

  forEachAsn(family: Family, visit: (bytes: Uint8Array, length: number, asn: number) => void): void {
    const file = this.asnDb;
    if (!file) return;
    const cache = file.records as Map<number, number | null>;
    walkTree(file.db, file.info, family, (bytes, length, pointer) => {
      let asn = cache.get(pointer);
      if (asn === undefined) {
        asn = file.get(formatAddress({ family, bytes }))[0]?.autonomous_system_number ?? null;
        cache.set(pointer, asn);
      }
      if (asn !== null) visit(bytes, length, asn);
    });
  }

  /**
   * Drops the files' bytes until a lookup or a table build needs them again (read from disk
   * then). For a process that only builds tables from them, as DNS servers do; explain reads
   * the file again at its next call.
   */
  releaseFiles(): void {
    for (const f of [this.location, this.asnDb]) f?.release();
  }

  /** Drops what the table builds decoded (records by pointer): call once the tables are built. */
  releaseRecords(): void {
    for (const f of [this.location, this.asnDb]) f?.records.clear();
  }

  /** Modification time of the files, for health output. */
  files(): { path: string; mtime: string }[] {
    return [this.location, this.asnDb]
      .filter((f): f is DbFile => f !== undefined)
      .map((f) => ({ path: f.path, mtime: statSync(f.path).mtime.toISOString() }));
  }
}

/** maxmind reports IPv4 prefixes in an IPv4-only tree as is and in IPv6 trees minus 96. */
function clampLength(family: Family, _ipVersion: number, length: number): number {
  const max = family === 4 ? 32 : 128;
  return Math.max(0, Math.min(max, length));
}
