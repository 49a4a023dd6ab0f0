import type { Snapshot } from '@catchment/core';
import { dnskeyRdata, dsRdata } from '@catchment/core/dnssec-keys';
import {
  compactNsecRdata,
  TYPE_CDNSKEY,
  TYPE_CDS,
  TYPE_DNSKEY,
  TYPE_NSEC,
  TYPE_NXNAME,
  TYPE_RRSIG,
} from '../dnssec/records.ts';
import { pruneCache, type SignatureCache, ZoneSigner } from '../dnssec/signer.ts';
import { CLASS_IN, TYPE } from '../wire/constants.ts';
import { encodeName } from '../wire/names.ts';
import type { Chunk, CompiledZones, NameEntry } from './types.ts';

/**
 * Online DNSSEC, the compile-time part: every RRset that can be answered gets a `signed` twin
 * of its chunk (the records followed by their RRSIGs, laid out exactly like the unsigned chunk,
 * so the query path picks one or the other and copies it). Each name gets its compact-denial
 * NSEC (RFC 9824) for NODATA; only NXDOMAIN and wildcard answers, whose owner is the query
 * name, are signed while answering (see `denial` and `onlineAnswer`), from a bounded cache.
 */
export interface DnssecOptions {
  /** The key-encryption key that opens the snapshot's private keys; undefined: serve unsigned. */
  kek: Buffer | undefined;
  /** Signatures kept across snapshots (one per answering thread). */
  cache: SignatureCache;
  now?: number;
}

interface Rr {
  owner: Buffer;
  type: number;
  ttl: number;
  rdata: Buffer;
}

function rr(owner: Buffer, type: number, ttl: number, rdata: Buffer): Buffer {
  const b = Buffer.alloc(owner.length + 10 + rdata.length);
  owner.copy(b, 0);
  let o = owner.length;
  b.writeUInt16BE(type, o);
  b.writeUInt16BE(CLASS_IN, o + 2);
  b.writeUInt32BE(ttl >>> 0, o + 4);
  b.writeUInt16BE(rdata.length, o + 8);
  o += 10;
  rdata.copy(b, o);
  return b;
}

const POINTER = Buffer.from([0xc0, 0x0c]);

/** The records of a chunk: owners are 2-byte pointers or full (uncompressed) names. */
function parse(bytes: Buffer): Rr[] {
  const out: Rr[] = [];
  let p = 0;
  while (p < bytes.length) {
    let end = p;
    if ((bytes[p]! & 0xc0) === 0xc0) end = p + 2;
    else {
      while (bytes[end] !== 0) end += bytes[end]! + 1;
      end++;
    }
    const owner = bytes.subarray(p, end);
    const type = bytes.readUInt16BE(end);
    const ttl = bytes.readUInt32BE(end + 4);
    const len = bytes.readUInt16BE(end + 8);
    out.push({ owner, type, ttl, rdata: bytes.subarray(end + 10, end + 10 + len) });
    p = end + 10 + len;
  }
  return out;
}

/** `chunk` followed by the RRSIGs over its (single) RRset, owned like its records. */
function signChunk(chunk: Chunk, owner: Buffer, signer: ZoneSigner, keySet = false): Chunk | undefined {
  if (chunk.count === 0) return undefined;
  const rrs = parse(chunk.bytes);
  const { type, ttl } = rrs[0]!;
  const sigs = signer.sign(
    owner,
    type,
    ttl,
    rrs.map((r) => r.rdata),
    keySet,
  );
  return append(
    chunk,
    sigs.map((s) => rr(POINTER, TYPE_RRSIG, ttl, s)),
  );
}

/** Records with a 0xC00C-style owner added to a chunk, in its way of marking owners. */
function append(chunk: Chunk, records: Buffer[]): Chunk {
  const suffix = chunk.patches.length > 0;
  const marks = [...(suffix ? chunk.patches : (chunk.owners ?? []))];
  let off = chunk.bytes.length;
  for (const r of records) {
    marks.push(off);
    off += r.length;
  }
  return {
    bytes: Buffer.concat([chunk.bytes, ...records]),
    count: chunk.count + records.length,
    patches: suffix ? marks : [],
    ...(suffix ? {} : { owners: marks }),
  };
}

/** NSEC (and RRSIGs) owned by the question name, for a NODATA answer at `owner`. */
function nsecChunk(owner: Buffer, types: number[], ttl: number, signer: ZoneSigner, online: boolean): Chunk {
  const rdata = compactNsecRdata(owner, types);
  const sigs = online ? signer.online(owner, TYPE_NSEC, ttl, [rdata]) : signer.sign(owner, TYPE_NSEC, ttl, [rdata]);
  const records = [rr(POINTER, TYPE_NSEC, ttl, rdata), ...sigs.map((s) => rr(POINTER, TYPE_RRSIG, ttl, s))];
  return append({ bytes: Buffer.alloc(0), count: 0, patches: [], owners: [] }, records);
}

/** Types present at a name, for its NSEC bitmap. */
function typesAt(zones: CompiledZones, e: NameEntry): number[] {
  const types = [TYPE_RRSIG, TYPE_NSEC];
  for (const [t, s] of e.rrsets) if (s.answer.count > 0) types.push(t);
  if (e.cname) types.push(TYPE.CNAME);
  if (e.service >= 0) {
    // A type goes in the bitmap only when every client gets records of it: a client whose
    // answer is empty must be able to prove NODATA with this same record.
    const svc = zones.services[e.service]!;
    if (svc.a.every((c) => c.count > 0)) types.push(TYPE.A);
    if (svc.aaaa.every((c) => c.count > 0)) types.push(TYPE.AAAA);
  }
  return types;
}

/** Adds DNSKEY, CDS and CDNSKEY to each signed zone's apex and signs every answerable RRset. */
export function signZones(zones: CompiledZones, snapshot: Snapshot, opts: DnssecOptions): void {
  const body = snapshot.body;
  zones.signers = body.zones.map(() => undefined);
  zones.resignAt = Number.POSITIVE_INFINITY;
  const byZone = new Map<number, ZoneSigner>();
  body.zones.forEach((z, zi) => {
    if (!z.dnssec) return;
    if (!opts.kek) {
      zones.problems.push(`zone ${z.name}: signed, but this server has no key-encryption key: served unsigned`);
      return;
    }
    try {
      byZone.set(zi, new ZoneSigner(z.name, z.dnssec, opts.kek, opts.cache, opts.now));
    } catch (err) {
      zones.problems.push(`zone ${z.name}: DNSSEC keys unusable (${(err as Error).message}): served unsigned`);
    }
  });

  for (const [zi, signer] of byZone) {
    const z = body.zones[zi]!;
    const info = zones.zones[zi]!;
    const apex = zones.entries[info.entry]!;
    const keys = signer.keys.map((k) => dnskeyRdata(k.flags, k.algorithm, Buffer.from(k.publicKey, 'base64')));
    const dsKeys = signer.keys.flatMap((k, i) => (k.ds && k.role !== 'zsk' ? [keys[i]!] : []));
    const apexSet = (type: number, rdatas: Buffer[]) => {
      if (rdatas.length === 0) return;
      const bytes = Buffer.concat(rdatas.map((r) => rr(POINTER, type, z.ttl, r)));
      let off = 0;
      const owners: number[] = [];
      for (const r of rdatas) {
        owners.push(off);
        off += 12 + r.length;
      }
      apex.rrsets.set(type, { answer: { bytes, count: rdatas.length, patches: [], owners }, additional: EMPTY });
    };
    apexSet(TYPE_DNSKEY, keys);
    // CDS / CDNSKEY (RFC 7344): what the parent's DS should be, for automated DS updates.
    apexSet(
      TYPE_CDS,
      dsKeys.map((k) => dsRdata(z.name, k)),
    );
    apexSet(TYPE_CDNSKEY, dsKeys);
    zones.signers[zi] = signer;
  }

  zones.entries.forEach((e) => {
    const signer = zones.signers[e.zone];
    if (!signer) return;
    const owner = encodeName(e.name);
    for (const [type, s] of e.rrsets) {
      const keySet = type === TYPE_DNSKEY || type === TYPE_CDS || type === TYPE_CDNSKEY;
      s.answer.signed = signChunk(s.answer, owner, signer, keySet);
    }
    if (e.cname) e.cname.answer.signed = signChunk(e.cname.answer, owner, signer);
    if (e.cnameChain) e.cnameChain.answer.signed = signChain(e.cnameChain.answer, owner, signer);
    e.nsecTypes = typesAt(zones, e);
    const negTtl = zones.zones[e.zone]!.negativeTtl;
    if (e.delegation) {
      // An insecure delegation (no DS: the zones have none). The NS RRset and glue are the
      // child's and stay unsigned (RFC 4035 §2.2); the parent signs the NSEC at the cut that
      // proves there is no DS, carried by referrals (§3.1.4) and by the NODATA answer to a DS
      // query at the cut, which the parent side answers (§3.1.4.1).
      e.nsecTypes = [TYPE.NS, TYPE_RRSIG, TYPE_NSEC];
      const nsec = compactNsecRdata(owner, e.nsecTypes);
      const sigs = signer.sign(owner, TYPE_NSEC, negTtl, [nsec]);
      e.delegation.answer.signed = append(e.delegation.answer, [
        rr(POINTER, TYPE_NSEC, negTtl, nsec),
        ...sigs.map((s) => rr(POINTER, TYPE_RRSIG, negTtl, s)),
      ]);
      e.nsec = nsecChunk(owner, e.nsecTypes, negTtl, signer, false);
      return;
    }
    if (e.name.startsWith('*.')) return; // answered online, owned by the query name
    e.nsec = nsecChunk(owner, e.nsecTypes, negTtl, signer, false);
    if (e.hasData) e.hinfo = signChunk(zones.hinfo, owner, signer);
  });

  for (const [zi, signer] of byZone) {
    const info = zones.zones[zi]!;
    info.soa.signed = signChunk(info.soa, signer.apex, signer);
  }

  for (const svc of zones.services) {
    const signer =
      zones.signers[zones.entries[zones.table.find(encodeName(svc.name), 0, encodeName(svc.name).length)]!.zone];
    if (!signer) continue;
    const owner = encodeName(svc.name);
    for (const c of [...svc.a, ...svc.aaaa]) if (!c.signed) c.signed = signChunk(c, owner, signer);
  }

  for (const s of byZone.values()) zones.resignAt = Math.min(zones.resignAt, s.resignAt);
  pruneCache(opts.cache, zones.signers);
}

const EMPTY: Chunk = { bytes: Buffer.alloc(0), count: 0, patches: [] };

/** A CNAME chain with each CNAME followed by its RRSIGs; `at` is where the final target's name now is. */
function signChain(chain: Chunk, first: Buffer, signer: ZoneSigner): Chunk {
  const rrs = parse(chain.bytes);
  const parts: Buffer[] = [];
  let length = 0;
  let at = 0;
  rrs.forEach((r, i) => {
    const owner = i === 0 ? first : Buffer.from(r.owner);
    const sigs = signer.sign(owner, r.type, r.ttl, [r.rdata]);
    const ownerBytes = i === 0 ? POINTER : Buffer.from(r.owner);
    at = length + ownerBytes.length + 10;
    for (const b of [
      rr(ownerBytes, r.type, r.ttl, r.rdata),
      ...sigs.map((s) => rr(ownerBytes, TYPE_RRSIG, r.ttl, s)),
    ]) {
      parts.push(b);
      length += b.length;
    }
  });
  const count = parts.length;
  return { bytes: Buffer.concat(parts), count, patches: [], owners: [0], at };
}

/** The query name in canonical form (lower case), copied out of the packet. */
export function queryOwner(msg: Uint8Array, start: number, end: number): Buffer {
  const b = Buffer.allocUnsafe(end - start);
  for (let i = 0; i < b.length; i++) {
    const c = msg[start + i]!;
    b[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  return b;
}

/** Compact denial of a name that does not exist (RFC 9824): NSEC with NXNAME, signed online. */
export function denial(signer: ZoneSigner, owner: Buffer, negTtl: number): Chunk {
  return nsecChunk(owner, [TYPE_RRSIG, TYPE_NSEC, TYPE_NXNAME], negTtl, signer, true);
}

/** NODATA at a name synthesised from a wildcard: its NSEC carries the wildcard's types. */
export function wildcardNodata(signer: ZoneSigner, owner: Buffer, types: number[], negTtl: number): Chunk {
  return nsecChunk(owner, types, negTtl, signer, true);
}

/**
 * A wildcard's records signed as if owned by the query name (as black-lie servers do): one
 * online signature, cached, instead of a wildcard proof that would need an NSEC per name anyway.
 */
export function onlineAnswer(signer: ZoneSigner, chunk: Chunk, owner: Buffer): Chunk {
  const rrs = parse(chunk.bytes);
  const { type, ttl } = rrs[0]!;
  const sigs = signer.online(
    owner,
    type,
    ttl,
    rrs.map((r) => r.rdata),
  );
  return append(
    chunk,
    sigs.map((s) => rr(POINTER, TYPE_RRSIG, ttl, s)),
  );
}

/**
 * A wildcard's CNAME chain for a DO query. The expanded CNAME is signed online as owned by the
 * query name, like every other wildcard answer: signed as `*.name` its RRSIG's labels field would
 * announce a wildcard expansion, which validators accept only with an NSEC proving that the
 * query name does not exist, and compact denial has none to give. The chain's next CNAMEs are
 * real names and keep the signatures made at compile time (`chain.signed`).
 */
export function onlineChain(signer: ZoneSigner, chain: Chunk, owner: Buffer): Chunk {
  const signed = chain.signed!;
  const first = parse(chain.bytes)[0]!;
  const sigs = signer.online(owner, first.type, first.ttl, [first.rdata]);
  const head = [
    rr(POINTER, first.type, first.ttl, first.rdata),
    ...sigs.map((s) => rr(POINTER, TYPE_RRSIG, first.ttl, s)),
  ];
  const headLen = head.reduce((n, b) => n + b.length, 0);
  // The signed chain after the first CNAME and its RRSIGs: the first record with a full owner.
  const rrs = parse(signed.bytes);
  const next = rrs.findIndex((r, i) => i > 0 && r.owner.length !== 2);
  if (next < 0) return { bytes: Buffer.concat(head), count: head.length, patches: [], owners: [0], at: 12 };
  const tailStart = rrs[next]!.owner.byteOffset - signed.bytes.byteOffset;
  return {
    bytes: Buffer.concat([...head, signed.bytes.subarray(tailStart)]),
    count: head.length + signed.count - next,
    patches: [],
    owners: [0],
    at: headLen + signed.at! - tailStart,
  };
}
