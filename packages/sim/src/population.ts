import { CatchmentError } from '@catchment/core';
import { countryCentroid, type GeoDb, parseNetwork } from '@catchment/geo';
import type { ScenarioModel } from './scenario.ts';

/**
 * Who asks: client /24s with their load, the resolvers they ask through, and one cache
 * entry per (client block, resolver) with the share of the block's queries it carries.
 * Columnar (typed arrays), so a million blocks stay a few tens of megabytes.
 */
export interface Population {
  /** Per block: IPv4 network address (the /24), requests per second, country index. */
  blockAddr: Uint32Array;
  blockRps: Float64Array;
  blockCountry: Uint16Array;
  countries: { code: string; lat: number; lon: number }[];
  resolvers: Resolver[];
  /** Per cache entry: block, resolver, share of the block's requests. */
  entryBlock: Uint32Array;
  entryResolver: Uint32Array;
  entryShare: Float32Array;
}

export type CacheBehaviour = 'honour' | 'clamp' | 'stale';

export interface Resolver {
  name: string;
  /** IPv4 address the queries come from (without ECS, the DNS server decides by it). */
  addr: number;
  ecs: boolean;
  behaviour: CacheBehaviour;
  public: boolean;
}

/** FNV-1a over 32-bit words: deterministic phases and draws, no RNG state to carry. */
export function hash32(...words: number[]): number {
  let h = 0x811c9dc5;
  for (const w of words) {
    for (let i = 0; i < 4; i++) h = Math.imul(h ^ ((w >>> (i * 8)) & 0xff), 0x01000193) >>> 0;
  }
  // Final avalanche (murmur3 fmix32): FNV's low bits alone are poorly mixed.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export const unit = (h: number) => h / 4294967296;

function v4(text: string, where: string): number {
  const n = parseNetwork(text);
  if (n?.family !== 4) throw new CatchmentError('SCENARIO_INVALID', `${where}: ${text} is not an IPv4 address`);
  const b = n.bytes;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function addrText(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export function addrBytes(a: number, out = new Uint8Array(4)): Uint8Array {
  out[0] = a >>> 24;
  out[1] = (a >>> 16) & 255;
  out[2] = (a >>> 8) & 255;
  out[3] = a & 255;
  return out;
}

/** /24s of each wanted country from the GeoIP database: one per network, round after round. */
function countryBlocks(geo: GeoDb, wanted: Map<string, number>): Map<string, number[]> {
  const nets = new Map<string, { base: number; count: number }[]>();
  for (const c of wanted.keys()) nets.set(c, []);
  geo.forEachLocation(4, (bytes, length, g) => {
    if (length > 24) return;
    const list = nets.get(g.country);
    if (!list) return;
    const base = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    list.push({ base, count: 2 ** (24 - length) });
  });
  const out = new Map<string, number[]>();
  for (const [country, need] of wanted) {
    const list = nets.get(country) ?? [];
    if (list.length === 0)
      throw new CatchmentError('SCENARIO_INVALID', `the GeoIP database has no IPv4 network in ${country}`);
    const blocks: number[] = [];
    const total = list.reduce((n, x) => n + x.count, 0);
    if (total < need)
      throw new CatchmentError('SCENARIO_INVALID', `${country} has only ${total} /24s in the GeoIP database`);
    for (let round = 0; blocks.length < need; round++) {
      for (const n of list) {
        if (round < n.count) blocks.push((n.base + round * 256) >>> 0);
        if (blocks.length >= need) break;
      }
    }
    out.set(country, blocks);
  }
  return out;
}

export function buildPopulation(model: ScenarioModel, geo: GeoDb): Population {
  const wanted = new Map<string, number>();
  for (const c of model.clients) {
    if ('cidr' in c) continue;
    wanted.set(c.country, (wanted.get(c.country) ?? 0) + (c.blocks ?? 100));
  }
  const byCountry = countryBlocks(geo, wanted);
  const used = new Map<string, number>();
  const countries: Population['countries'] = [];
  const countryIdx = new Map<string, number>();
  const countryOf = (code: string) => {
    let i = countryIdx.get(code);
    if (i === undefined) {
      const c = countryCentroid(code);
      if (!c) throw new CatchmentError('SCENARIO_INVALID', `unknown country ${code}`);
      i = countries.length;
      countries.push({ code, ...c });
      countryIdx.set(code, i);
    }
    return i;
  };
  const addr: number[] = [];
  const rps: number[] = [];
  const country: number[] = [];
  model.clients.forEach((c, i) => {
    if ('cidr' in c) {
      const net = parseNetwork(c.cidr);
      if (net?.family !== 4 || net.length !== 24)
        throw new CatchmentError('SCENARIO_INVALID', `/clients/${i}/cidr: only IPv4 /24s are modelled so far`);
      const a = v4(c.cidr.split('/')[0]!, `/clients/${i}/cidr`);
      const code = c.country ?? geo.locate(net).geo?.country;
      if (!code) throw new CatchmentError('SCENARIO_INVALID', `/clients/${i}: ${c.cidr} has no country; give one`);
      addr.push(a);
      rps.push(c.rps);
      country.push(countryOf(code));
      return;
    }
    const n = c.blocks ?? 100;
    const list = byCountry.get(c.country)!;
    const from = used.get(c.country) ?? 0;
    used.set(c.country, from + n);
    const ci = countryOf(c.country);
    for (let k = 0; k < n; k++) {
      addr.push(list[from + k]!);
      rps.push(c.rps / n);
      country.push(ci);
    }
  });
  const nBlocks = addr.length;

  // Resolvers: ISP resolvers inside their clients' country (so they geolocate with them),
  // and one instance of each public resolver per country (its PoP serving that country).
  const resolvers: Resolver[] = [];
  const behaviour = (id: number): CacheBehaviour => {
    const u = unit(hash32(model.seed, id, 0xcace));
    const { honour, clamp } = model.caches;
    return u < honour ? 'honour' : u < honour + clamp ? 'clamp' : 'stale';
  };
  const isp = new Map<number, number[]>();
  const pub = new Map<number, number[]>();
  const firstBlocks = new Map<number, number[]>();
  for (let b = 0; b < nBlocks; b++) {
    const list = firstBlocks.get(country[b]!) ?? [];
    if (list.length < model.ispPerCountry) list.push(b);
    firstBlocks.set(country[b]!, list);
  }
  for (const [ci, mine] of firstBlocks) {
    isp.set(
      ci,
      mine.map((b, k) => {
        const id = resolvers.length;
        resolvers.push({
          name: `isp-${countries[ci]!.code}-${k}`,
          addr: (addr[b]! + 53) >>> 0,
          ecs: model.ispEcs,
          behaviour: behaviour(id),
          public: false,
        });
        return id;
      }),
    );
    pub.set(
      ci,
      model.publicResolvers.map((p) => {
        const id = resolvers.length;
        resolvers.push({
          name: `${p.name}-${countries[ci]!.code}`,
          addr: v4(p.address, `public resolver ${p.name}`),
          ecs: p.ecs,
          behaviour: p.cache ?? behaviour(id),
          public: true,
        });
        return id;
      }),
    );
  }
  const perBlock = 1 + model.publicResolvers.length;
  const entryBlock = new Uint32Array(nBlocks * perBlock);
  const entryResolver = new Uint32Array(nBlocks * perBlock);
  const entryShare = new Float32Array(nBlocks * perBlock);
  let e = 0;
  for (let b = 0; b < nBlocks; b++) {
    const ci = country[b]!;
    const own = isp.get(ci)!;
    entryBlock[e] = b;
    entryResolver[e] = own[hash32(model.seed, addr[b]!) % own.length]!;
    entryShare[e++] = 1 - model.publicShare;
    const pubs = pub.get(ci)!;
    model.publicResolvers.forEach((p, k) => {
      entryBlock[e] = b;
      entryResolver[e] = pubs[k]!;
      entryShare[e++] = model.publicShare * p.share;
    });
  }
  return {
    blockAddr: Uint32Array.from(addr),
    blockRps: Float64Array.from(rps),
    blockCountry: Uint16Array.from(country),
    countries,
    resolvers,
    entryBlock,
    entryResolver,
    entryShare,
  };
}
