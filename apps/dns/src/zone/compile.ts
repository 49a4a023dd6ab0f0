import type { Snapshot, SnapshotZone } from '@catchment/core';
import type { SteeringTable } from '@catchment/geo';
import { BlockCounts } from '../block-counts.ts';
import { newSignatureCache, type ZoneSigner } from '../dnssec/signer.ts';
import { CLASS_IN, TYPE } from '../wire/constants.ts';
import { absoluteName, encodeName } from '../wire/names.ts';
import { encodeRdata, TYPE_CODES } from '../wire/rdata.ts';
import { NameTable } from './name-table.ts';
import { type DnssecOptions, signZones } from './sign.ts';

/**
 * A snapshot compiled for the query path: every answer's records encoded once, so a reply is
 * header + copied question + memcpy of prebuilt sections. Owners of answer records are the
 * pointer 0xC00C to the question; owners that are a suffix of the question (the zone apex for
 * the SOA of negative answers, the delegation point of a referral) are pointers patched in at
 * the offsets listed in `patches`.
 */
export interface Chunk {
  bytes: Buffer;
  count: number;
  /** Offsets in `bytes` where a 2-byte pointer to the chunk's owner suffix goes. */
  patches: number[];
  /** Offsets of the 0xC00C owners of answer records: re-pointed when the records follow a CNAME. */
  owners?: number[];
  /** The same records followed by their RRSIGs (signed zones): what a DO query gets. */
  signed?: Chunk;
  /** CNAME chains: offset of the final target's name (what its records' owners point to). */
  at?: number;
}

export interface Section {
  answer: Chunk;
  /** Additional data (glue for NS/MX/SRV targets in our zones): optional, dropped first when space is short. */
  additional: Chunk;
}

export interface NameEntry {
  name: string;
  zone: number;
  /** Wire length of this name, root byte included. */
  wireLen: number;
  /** Static RRsets by type (CNAME apart). */
  rrsets: Map<number, Section>;
  /** The CNAME record alone: the answer to QTYPE=CNAME. */
  cname: Section | undefined;
  /**
   * The CNAME and, while its target is a CNAME of our zones, the next ones (full owner names,
   * at most MAX_CHAIN records): the answer for other types, before the target's records.
   */
  cnameChain: Section | undefined;
  /** The chain's final target when it is a name of our zones without a CNAME (its records follow), else -1. */
  cnameTarget: number;
  /** Offset in cnameChain's bytes of the final target name (what its records' owners point to). */
  cnameTargetAt: number;
  /** Steered service at this name (index into services), or -1. */
  service: number;
  /** Zone cut below the apex: NS records and glue for a referral. */
  delegation: Section | undefined;
  /** The `*.name` entry, for wildcard synthesis below this name; -1 when none. */
  wildcard: number;
  /** True when the name owns records (false: empty non-terminal). */
  hasData: boolean;
  /** Signed zones: the NODATA proof (compact NSEC at this name and its RRSIGs). */
  nsec?: Chunk;
  /** Signed zones: the RFC 8482 HINFO and its RRSIG, owned by this name. */
  hinfo?: Chunk;
  /** Signed zones: the types of this name's NSEC bitmap. */
  nsecTypes?: number[];
}

export interface ZoneInfo {
  name: string;
  entry: number;
  wireLen: number;
  /** SOA record after its owner: the negative answer's authority section. */
  soa: Chunk;
  /** TTL of negative answers: min(SOA TTL, MINIMUM). */
  negativeTtl: number;
}

export interface ServiceAnswers {
  name: string;
  classIdx: number;
  /** Indexed by leaf edge + 1 (0: anycast fallback): prebuilt A and AAAA answers. */
  a: Chunk[];
  aaaa: Chunk[];
  /** Edge name per index (null: anycast), for counters and reports. */
  edges: (string | null)[];
  /** Answers given per edge index since the last drain (this thread's counters). */
  answerCounts: Float64Array;
}

export interface CompiledZones {
  version: number;
  table: NameTable;
  entries: NameEntry[];
  zones: ZoneInfo[];
  services: ServiceAnswers[];
  steering: SteeringTable;
  /** Per steering class: answers per leaf key (parent * 2 + bit) since the last drain. */
  blockCounts: BlockCounts[];
  /** RFC 8482 answer to ANY. */
  hinfo: Chunk;
  /** Whether any zone delegates below its apex (else the referral walk is skipped). */
  hasCuts: boolean;
  /** Records that could not be encoded (reported, never fatal). */
  problems: string[];
  /** Per zone: its signer when the zone is served signed. */
  signers: (ZoneSigner | undefined)[];
  /** Unix seconds when the first signature needs renewing (Infinity: nothing signed). */
  resignAt: number;
}

/** CNAME records followed in one answer (Knot and BIND stop around here too). */
const MAX_CHAIN = 8;

const EMPTY: Chunk = { bytes: Buffer.alloc(0), count: 0, patches: [] };

function rrTail(type: number, ttl: number, rdata: Buffer): Buffer {
  const b = Buffer.alloc(10 + rdata.length);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(CLASS_IN, 2);
  b.writeUInt32BE(ttl >>> 0, 4);
  b.writeUInt16BE(rdata.length, 8);
  rdata.copy(b, 10);
  return b;
}

/** Records owned by the question name: owner 0xC00C. */
function answerChunk(type: number, ttl: number, rdatas: Buffer[]): Chunk {
  const parts = rdatas.map((r) => Buffer.concat([Buffer.from([0xc0, 0x0c]), rrTail(type, ttl, r)]));
  const owners: number[] = [];
  let off = 0;
  for (const p of parts) {
    owners.push(off);
    off += p.length;
  }
  return { bytes: Buffer.concat(parts), count: parts.length, patches: [], owners };
}

/** Records owned by a suffix of the question name: owner pointer patched per query. */
function suffixChunk(type: number, ttl: number, rdatas: Buffer[]): Chunk {
  const patches: number[] = [];
  const parts: Buffer[] = [];
  let off = 0;
  for (const r of rdatas) {
    patches.push(off);
    const p = Buffer.concat([Buffer.from([0xc0, 0x0c]), rrTail(type, ttl, r)]);
    parts.push(p);
    off += p.length;
  }
  return { bytes: Buffer.concat(parts), count: parts.length, patches };
}

/** Records with their own full owner name (glue). */
function ownedChunk(records: { owner: string; type: number; ttl: number; rdata: Buffer }[]): Chunk {
  const parts = records.map((r) => Buffer.concat([encodeName(r.owner), rrTail(r.type, r.ttl, r.rdata)]));
  return { bytes: Buffer.concat(parts), count: parts.length, patches: [] };
}

interface RawRecord {
  name: string;
  type: string;
  ttl: number;
  rdata: Buffer;
  value: string;
}

function ancestors(name: string, zone: string): string[] {
  const out: string[] = [];
  let n = name;
  while (n !== zone && n.includes('.')) {
    n = n.slice(n.indexOf('.') + 1);
    out.push(n);
    if (n === zone) break;
  }
  return out;
}

export function compileZones(snapshot: Snapshot, steering: SteeringTable, dnssec?: DnssecOptions): CompiledZones {
  const body = snapshot.body;
  const table = new NameTable();
  const entries: NameEntry[] = [];
  const zones: ZoneInfo[] = [];
  const problems: string[] = [];
  const records = new Map<string, RawRecord[]>();
  const zoneOf = new Map<string, number>();

  const entry = (name: string, zone: number): number => {
    const wire = encodeName(name);
    const idx = table.add(wire);
    if (idx === entries.length) {
      entries.push({
        name,
        zone,
        wireLen: wire.length,
        rrsets: new Map(),
        cname: undefined,
        cnameChain: undefined,
        cnameTarget: -1,
        cnameTargetAt: 0,
        service: -1,
        delegation: undefined,
        wildcard: -1,
        hasData: false,
      });
    }
    return idx;
  };

  // Longest zone names first, so a child zone's names belong to it and not to its parent.
  const sortedZones = [...body.zones].sort((a, b) => b.name.length - a.name.length);
  const zoneFor = (name: string): number => {
    for (const z of sortedZones) {
      if (name === z.name || name.endsWith(`.${z.name}`)) return zoneOf.get(z.name)!;
    }
    return -1;
  };
  body.zones.forEach((z: SnapshotZone, zi) => {
    zoneOf.set(z.name, zi);
  });

  const add = (name: string, type: string, ttl: number, value: string, zone: SnapshotZone) => {
    try {
      const rdata = encodeRdata(type, value, zone.name);
      const list = records.get(name) ?? [];
      list.push({ name, type, ttl, rdata, value });
      records.set(name, list);
    } catch (err) {
      problems.push(`${name} ${type} "${value}": ${(err as Error).message}`);
    }
  };

  for (const z of body.zones) {
    for (const ns of z.ns) add(z.name, 'NS', z.ttl, `${absoluteName(ns, z.name)}.`, z);
    for (const r of z.records) add(absoluteName(r.name, z.name), r.type, r.ttl, r.value, z);
  }

  const zi = (name: string) => zoneFor(name);
  body.zones.forEach((z) => {
    const idx = entry(z.name, zoneOf.get(z.name)!);
    entries[idx]!.hasData = true;
    const soa = Buffer.concat([
      encodeName(z.soa.mname),
      encodeName(z.soa.rname),
      (() => {
        const b = Buffer.alloc(20);
        b.writeUInt32BE(z.soa.serial >>> 0, 0);
        b.writeUInt32BE(z.soa.refresh >>> 0, 4);
        b.writeUInt32BE(z.soa.retry >>> 0, 8);
        b.writeUInt32BE(z.soa.expire >>> 0, 12);
        b.writeUInt32BE(z.soa.minimum >>> 0, 16);
        return b;
      })(),
    ]);
    entries[idx]!.rrsets.set(TYPE.SOA, { answer: answerChunk(TYPE.SOA, z.ttl, [soa]), additional: EMPTY });
    // RFC 2308 §5: the negative TTL is the smaller of the SOA's TTL and its MINIMUM.
    zones[zoneOf.get(z.name)!] = {
      name: z.name,
      entry: idx,
      wireLen: encodeName(z.name).length,
      soa: suffixChunk(TYPE.SOA, Math.min(z.ttl, z.soa.minimum), [soa]),
      negativeTtl: Math.min(z.ttl, z.soa.minimum),
    };
  });

  // Address records of every name, for glue.
  const addressesOf = (name: string) =>
    (records.get(name) ?? [])
      .filter((r) => r.type === 'A' || r.type === 'AAAA')
      .map((r) => ({ owner: name, type: TYPE_CODES[r.type]!, ttl: r.ttl, rdata: r.rdata }));
  const glueFor = (targets: string[]) => ownedChunk(targets.flatMap((t) => (zoneFor(t) >= 0 ? addressesOf(t) : [])));

  // CNAME records by entry, for following chains once every name is known.
  const cnameRecords = new Map<number, { owner: string; value: string; ttl: number; rdata: Buffer }>();
  const cuts = new Set<string>();
  for (const [name, list] of records) {
    const z = zi(name);
    if (z < 0) continue;
    if (name !== body.zones[z]!.name && list.some((r) => r.type === 'NS')) cuts.add(name);
  }

  for (const [name, list] of records) {
    const z = zi(name);
    if (z < 0) {
      problems.push(`${name}: outside every zone`);
      continue;
    }
    const idx = entry(name, z);
    const e = entries[idx]!;
    e.hasData = true;
    for (const a of ancestors(name, body.zones[z]!.name)) entry(a, z);
    const byType = new Map<string, RawRecord[]>();
    for (const r of list) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
    for (const [type, rs] of byType) {
      const code = TYPE_CODES[type]!;
      const ttl = Math.min(...rs.map((r) => r.ttl));
      const targets = rs.map((r) => {
        const parts = r.value.trim().split(/\s+/);
        return absoluteName(parts[parts.length - 1]!, body.zones[z]!.name);
      });
      const additional = type === 'NS' || type === 'MX' || type === 'SRV' ? glueFor(targets) : EMPTY;
      const section = {
        answer: answerChunk(
          code,
          ttl,
          rs.map((r) => r.rdata),
        ),
        additional,
      };
      if (type === 'CNAME') {
        e.cname = { answer: answerChunk(code, ttl, [rs[0]!.rdata]), additional: EMPTY };
        cnameRecords.set(idx, { owner: name, value: rs[0]!.value, ttl, rdata: rs[0]!.rdata });
      } else e.rrsets.set(code, section);
      if (type === 'NS' && cuts.has(name)) {
        e.delegation = {
          answer: suffixChunk(
            code,
            ttl,
            rs.map((r) => r.rdata),
          ),
          additional,
        };
      }
    }
  }

  const services: ServiceAnswers[] = [];
  for (const svc of body.services) {
    const z = zoneFor(svc.name);
    const classIdx = steering.serviceClass.get(svc.name);
    if (z < 0 || classIdx === undefined) {
      problems.push(`service ${svc.name}: not inside a zone`);
      continue;
    }
    const cls = steering.classes[classIdx]!;
    const idx = entry(svc.name, z);
    for (const a of ancestors(svc.name, body.zones[z]!.name)) entry(a, z);
    entries[idx]!.hasData = true;
    entries[idx]!.service = services.length;
    const enc = (type: 'A' | 'AAAA', list: string[]) =>
      answerChunk(
        type === 'A' ? TYPE.A : TYPE.AAAA,
        svc.ttl,
        list.map((v) => encodeRdata(type, v, svc.zone)),
      );
    const a: Chunk[] = [enc('A', svc.anycast.v4 ? [svc.anycast.v4] : [])];
    const aaaa: Chunk[] = [enc('AAAA', svc.anycast.v6 ? [svc.anycast.v6] : [])];
    const edges: (string | null)[] = [null];
    for (const edge of cls.edges) {
      const addr = svc.addresses.find((x) => x.edge === edge.name);
      // An edge without an address of this family answers with the anycast address.
      a.push(addr && addr.v4.length > 0 ? enc('A', addr.v4) : a[0]!);
      aaaa.push(addr && addr.v6.length > 0 ? enc('AAAA', addr.v6) : aaaa[0]!);
      edges.push(edge.name);
    }
    services.push({ name: svc.name, classIdx, a, aaaa, edges, answerCounts: new Float64Array(edges.length) });
  }

  // In-zone CNAME chains (RFC 1034 §4.3.2 step 3a): follow the targets that are our names, up
  // to MAX_CHAIN records; a loop or a target outside our zones ends the chain.
  const next = new Map<number, number>();
  for (const [self, c] of cnameRecords) {
    const z = entries[self]!.zone;
    const target = encodeName(absoluteName(c.value, body.zones[z]!.name));
    const t = table.find(target, 0, target.length);
    if (t >= 0 && t !== self) next.set(self, t);
  }
  for (const self of cnameRecords.keys()) {
    const e = entries[self]!;
    const parts = [e.cname!.answer.bytes];
    // The first CNAME's target sits after its 0xC00C owner and type/class/TTL/length.
    let length = parts[0]!.length;
    let targetAt = 12;
    const seen = new Set([self]);
    let t = next.get(self) ?? -1;
    while (t >= 0 && cnameRecords.has(t) && !seen.has(t) && parts.length < MAX_CHAIN) {
      const c = cnameRecords.get(t)!;
      const owner = encodeName(c.owner);
      parts.push(Buffer.concat([owner, rrTail(TYPE.CNAME, c.ttl, c.rdata)]));
      targetAt = length + owner.length + 10;
      length += parts[parts.length - 1]!.length;
      seen.add(t);
      t = next.get(t) ?? -1;
    }
    e.cnameChain = {
      answer: { bytes: Buffer.concat(parts), count: parts.length, patches: [], owners: [0], at: targetAt },
      additional: EMPTY,
    };
    e.cnameTarget = t >= 0 && !cnameRecords.has(t) ? t : -1;
    e.cnameTargetAt = targetAt;
  }

  // Wildcards: the parent of `*.x` learns where its wildcard is.
  for (const name of records.keys()) {
    if (!name.startsWith('*.')) continue;
    const parent = name.slice(2);
    const p = table.find(encodeName(parent), 0, encodeName(parent).length);
    if (p >= 0) entries[p]!.wildcard = table.find(encodeName(name), 0, encodeName(name).length);
  }

  const hinfoRdata = Buffer.concat([Buffer.from([7]), Buffer.from('RFC8482'), Buffer.from([0])]);
  const compiled: CompiledZones = {
    version: snapshot.version,
    table,
    entries,
    zones,
    services,
    steering,
    blockCounts: steering.classes.map((c) => new BlockCounts(c.trie.nodes.length)),
    hinfo: answerChunk(TYPE.HINFO, 3600, [hinfoRdata]),
    hasCuts: cuts.size > 0,
    problems,
    signers: [],
    resignAt: Number.POSITIVE_INFINITY,
  };
  if (body.zones.some((z) => z.dnssec)) {
    signZones(compiled, snapshot, dnssec ?? { kek: undefined, cache: newSignatureCache() });
  }
  return compiled;
}
