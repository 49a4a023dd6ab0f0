import { ecsScope, type LookupResult, type LookupTrie, leafEdge, lookupBits } from '@catchment/geo/tables';
import type { ServerCookies } from './cookies.ts';
import { TYPE_DS, TYPE_NSEC } from './dnssec/records.ts';
import { type StrideIndex, strideIndex, strideLookup } from './stride.ts';
import { CLASS_IN, EDNS_BUFFER, EDNS_OPTION_COOKIE, RCODE, TYPE } from './wire/constants.ts';
import { DROP, newQuery, parseQuery, type Query } from './wire/query.ts';
import { denial, onlineAnswer, onlineChain, queryOwner, wildcardNodata } from './zone/sign.ts';
import type { Chunk, CompiledZones, NameEntry, Section } from './zone/types.ts';

/**
 * Turns one query packet into one reply packet in a reused buffer. Everything it writes was
 * encoded when the snapshot was loaded; per query it only parses, looks names up in place,
 * does one longest-prefix lookup for steered names and copies bytes.
 */
export const MAX_MESSAGE = 65535;

export interface ClientAddress {
  family: 4 | 6;
  bytes: Uint8Array;
}

/** What the query's COOKIE option was (RFC 7873), for RRL and metrics. */
export const COOKIE_NONE = 0;
export const COOKIE_CLIENT_ONLY = 1;
export const COOKIE_VALID = 2;
export const COOKIE_INVALID = 3;
/** Our COOKIE option: code, length, client cookie (8), server cookie (16). */
const COOKIE_OPTION_LEN = 28;

const EMPTY: Chunk = { bytes: Buffer.alloc(0), count: 0, patches: [] };
const NO_ADDITIONAL: Section = { answer: EMPTY, additional: EMPTY };

export class Responder {
  #zones: CompiledZones | undefined;
  /** Per steering class of `zones`: the first-level index of its trie and of its pin trie. */
  #strides: StrideIndex[] = [];
  #pinStrides: (StrideIndex | undefined)[] = [];
  /** Resolvers whose ECS is used (undefined: all). */
  trustedEcs: LookupTrie | undefined;
  /** DNS cookies (undefined: off, the COOKIE option is ignored). */
  cookies: ServerCookies | undefined;
  readonly q: Query = newQuery();
  /**
   * Where replies are written. The batched UDP path points it at the socket's reply slot
   * (replies over UDP never exceed EDNS_BUFFER) so that nothing is copied.
   */
  out: Buffer = Buffer.allocUnsafe(MAX_MESSAGE);
  readonly #lookup: LookupResult = { value: 0, length: 0, key: 0 };
  readonly #mapped = new Uint8Array(4);

  /** Facts about the last reply, read by the listener for metrics and reports. */
  rcode = 0;
  truncated = false;
  /** COOKIE_* of the last query. */
  cookie = COOKIE_NONE;
  #client: Uint8Array = new Uint8Array(4);
  #now = 0;
  usedEcs = false;
  /** Steered answer: service index, edge index (0 = anycast), class and leaf key; -1 otherwise. */
  service = -1;
  edge = -1;
  classIdx = -1;
  blockKey = -1;

  /** Reused sections for steered and negative answers (no object per query). */
  readonly #steered: Section = { answer: EMPTY, additional: EMPTY };
  readonly #negative: Section = { answer: EMPTY, additional: EMPTY };

  constructor(zones?: CompiledZones) {
    this.zones = zones;
  }

  get zones(): CompiledZones | undefined {
    return this.#zones;
  }

  /** Swaps the zones in (between two packets); indexes their steering tries first. */
  set zones(zones: CompiledZones | undefined) {
    const classes = zones?.steering.classes ?? [];
    this.#strides = classes.map((c) => strideIndex(c.trie));
    this.#pinStrides = classes.map((c) => (c.pins.trie ? strideIndex(c.pins.trie) : undefined));
    this.#zones = zones;
  }

  /** Returns the reply length in `out`, or 0 when the packet gets no reply. */
  respond(msg: Uint8Array, len: number, client: ClientAddress, tcp: boolean): number {
    const q = this.q;
    this.truncated = false;
    this.usedEcs = false;
    this.service = -1;
    this.edge = -1;
    this.blockKey = -1;
    this.cookie = COOKIE_NONE;
    const status = parseQuery(msg, len, q);
    if (status === DROP) return 0;
    if (q.cookieLen > 0 && this.cookies) {
      this.#client = client.bytes;
      this.#now = (Date.now() / 1000) >>> 0;
      const c = q.cookieAt;
      this.cookie =
        q.cookieLen === 8
          ? COOKIE_CLIENT_ONLY
          : this.cookies.valid(msg, c, c + 8, q.cookieLen - 8, client.bytes, this.#now)
            ? COOKIE_VALID
            : COOKIE_INVALID;
    }
    if (status !== RCODE.NOERROR) return this.#error(msg, status);
    const zones = this.zones;
    if (q.qclass !== CLASS_IN) return this.#error(msg, RCODE.REFUSED);
    if (!zones) return this.#error(msg, RCODE.SERVFAIL);
    if (q.qtype === TYPE.MAILA || q.qtype === TYPE.MAILB) return this.#error(msg, RCODE.NOTIMP);

    const qEnd = q.qnameEnd;
    let idx = zones.table.find(msg, 12, qEnd);
    let entry: NameEntry | undefined = idx >= 0 ? zones.entries[idx] : undefined;
    let encloser: NameEntry | undefined;
    let encloserLabel = 0;
    if (!entry) {
      for (let i = 1; i < q.labels; i++) {
        idx = zones.table.find(msg, q.labelOffsets[i]!, qEnd);
        if (idx >= 0) {
          encloser = zones.entries[idx];
          encloserLabel = i;
          break;
        }
      }
      if (!encloser) return this.#error(msg, RCODE.REFUSED);
    }
    const zoneIdx = (entry ?? encloser)!.zone;
    const zone = zones.zones[zoneIdx]!;
    // Zone transfers are not offered (the zones come from snapshots, not from a primary).
    if (q.qtype === TYPE.AXFR || q.qtype === TYPE.IXFR) return this.#error(msg, RCODE.REFUSED);

    // A zone cut at or above the name (below the apex): referral, not authoritative.
    const first = entry ? 0 : encloserLabel;
    for (let i = first; zones.hasCuts && i < q.labels; i++) {
      const e = i === 0 ? entry! : zones.entries[zones.table.find(msg, q.labelOffsets[i]!, qEnd)];
      if (!e) continue;
      if (e === zones.entries[zone.entry]) break;
      if (!e.delegation) continue;
      // DS lives on the parent side of the cut (RFC 4035 §3.1.4.1): answered here, not referred.
      if (i === 0 && q.qtype === TYPE_DS) break;
      return this.#write(msg, RCODE.NOERROR, false, NO_ADDITIONAL, e.delegation, e.wireLen, tcp);
    }

    // DNSSEC: the signer of a signed zone when the query asked for signatures (DO).
    const signer = (q.dnssecOk & 0x80) !== 0 ? zones.signers[zoneIdx] : undefined;
    let wildcard = false;
    if (!entry) {
      const wild = encloser!.wildcard;
      if (wild < 0) {
        if (signer) {
          // Compact denial (RFC 9824): NOERROR with an NXNAME NSEC, or NXDOMAIN when the
          // resolver set CO (compact answers OK).
          const proof = denial(signer, queryOwner(msg, 12, qEnd), zone.negativeTtl);
          const rcode = (q.dnssecOk & 0x40) !== 0 ? RCODE.NXDOMAIN : RCODE.NOERROR;
          return this.#write(msg, rcode, true, NO_ADDITIONAL, this.#soa(zone.soa), zone.wireLen, tcp, undefined, proof);
        }
        return this.#write(msg, RCODE.NXDOMAIN, true, NO_ADDITIONAL, this.#soa(zone.soa), zone.wireLen, tcp);
      }
      entry = zones.entries[wild]!;
      wildcard = true;
    }

    const qtype = q.qtype;
    let section: Section | undefined;
    if (qtype === TYPE.ANY) {
      // RFC 8482: one small synthesised HINFO instead of every RRset.
      if (entry.hasData) section = { answer: (signer && entry.hinfo) || zones.hinfo, additional: EMPTY };
    } else if (signer && qtype === TYPE_NSEC && entry.nsec) {
      section = { answer: entry.nsec, additional: EMPTY };
    } else if (entry.cname && qtype === TYPE.CNAME) {
      section = entry.cname;
    } else if (entry.cnameChain) {
      section = entry.cnameChain;
      if (signer && wildcard) {
        section = { answer: onlineChain(signer, section.answer, queryOwner(msg, 12, qEnd)), additional: EMPTY };
        wildcard = false; // signed above
      }
      // RFC 1034 §4.3.2: the chain's final target's records follow when the target is ours.
      const target = entry.cnameTarget >= 0 ? zones.entries[entry.cnameTarget]! : undefined;
      if (target && !target.delegation) {
        const chained =
          target.service >= 0 && (qtype === TYPE.A || qtype === TYPE.AAAA)
            ? this.#steer(msg, target.service, qtype, client)
            : target.rrsets.get(qtype)?.answer;
        if (chained && chained.count > 0) {
          return this.#write(msg, RCODE.NOERROR, true, section, undefined, 0, tcp, chained);
        }
      }
    } else if (entry.service >= 0 && (qtype === TYPE.A || qtype === TYPE.AAAA)) {
      section = this.#steered;
      section.answer = this.#steer(msg, entry.service, qtype, client);
    } else {
      section = entry.rrsets.get(qtype);
    }
    if (!section || section.answer.count === 0) {
      const proof = signer
        ? wildcard
          ? wildcardNodata(signer, queryOwner(msg, 12, qEnd), entry.nsecTypes!, zone.negativeTtl)
          : entry.nsec
        : undefined;
      return this.#write(
        msg,
        RCODE.NOERROR,
        true,
        NO_ADDITIONAL,
        this.#soa(zone.soa),
        zone.wireLen,
        tcp,
        undefined,
        proof,
      );
    }
    if (signer && wildcard) {
      // Synthesised from a wildcard: signed as owned by the query name (one online signature).
      section = {
        answer: onlineAnswer(signer, section.answer, queryOwner(msg, 12, qEnd)),
        additional: section.additional,
      };
    }
    return this.#write(msg, RCODE.NOERROR, true, section, undefined, 0, tcp);
  }

  /** The SOA of a negative answer, in a reused section. */
  #soa(soa: Chunk): Section {
    const s = this.#negative;
    s.answer = soa;
    return s;
  }

  #steer(msg: Uint8Array, serviceIdx: number, qtype: number, client: ClientAddress): Chunk {
    const zones = this.zones!;
    const svc = zones.services[serviceIdx]!;
    const trie = this.#strides[svc.classIdx]!;
    const pins = this.#pinStrides[svc.classIdx];
    const q = this.q;
    const out = this.#lookup;
    let useEcs = q.ecsFamily !== 0 && q.ecsSource > 0;
    if (useEcs && this.trustedEcs) {
      lookupBits(this.trustedEcs, client.family, client.bytes, 0, client.bytes.length, out);
      useEcs = out.value === 1;
    }
    let value: number;
    if (useEcs) {
      let family: 4 | 6 = q.ecsFamily === 1 ? 4 : 6;
      let bytes: Uint8Array = msg;
      let offset = q.ecsAddr;
      let available = q.ecsAddrLen;
      let mapped = false;
      if (family === 6 && q.ecsSource >= 96 && isMapped(msg, offset, available)) {
        // IPv4-mapped IPv6 is looked up as IPv4; the scope goes back in the request's family
        // (RFC 7871 §7.1.1: the reply's FAMILY and SOURCE are the query's), or a resolver would
        // cache an IPv4-sized scope as an IPv6 one and share the answer with other clients.
        family = 4;
        mapped = true;
        const m = this.#mapped;
        for (let i = 0; i < 4; i++) m[i] = 12 + i < available ? msg[offset + 12 + i]! : 0;
        bytes = m;
        offset = 0;
        available = 4;
      }
      this.usedEcs = true;
      // The pin resolver first: a pinned block answers with its edge, scope the pin's block;
      // an unpinned answer's scope is the longer of the geo block and the pin trie's leaf, so
      // no resolver caches it for clients inside a pinned prefix.
      let pinLength = 0;
      if (pins) {
        strideLookup(pins, family, bytes, offset, available, out);
        pinLength = out.length;
      }
      if (pins && out.value > 0) {
        value = out.value;
        out.key = -1;
      } else {
        strideLookup(trie, family, bytes, offset, available, out);
        value = out.value;
      }
      this.scope = ecsScope(Math.max(out.length, pinLength), q.ecsSource, mapped);
    } else if (pins && this.#pinned(pins, client)) {
      value = out.value;
      out.key = -1;
      this.scope = 0;
    } else {
      lookupBits(zones.steering.publicResolvers, client.family, client.bytes, 0, client.bytes.length, out);
      if (out.value === 1) {
        value = 0;
        out.key = -1;
      } else {
        strideLookup(trie, client.family, client.bytes, 0, client.bytes.length, out);
        value = out.value;
      }
      this.scope = 0;
    }
    const edge = leafEdge(value) + 1;
    this.service = serviceIdx;
    this.edge = edge;
    this.classIdx = svc.classIdx;
    this.blockKey = out.key;
    return qtype === TYPE.A ? svc.a[edge]! : svc.aaaa[edge]!;
  }

  /** Without ECS: is the resolver's address pinned? (leaves the pin's value in the lookup result) */
  #pinned(pins: StrideIndex, client: ClientAddress): boolean {
    strideLookup(pins, client.family, client.bytes, 0, client.bytes.length, this.#lookup);
    return this.#lookup.value > 0;
  }

  /** ECS scope of the last steered answer. */
  scope = 0;

  #error(msg: Uint8Array, rcode: number): number {
    const q = this.q;
    const out = this.out;
    this.rcode = rcode;
    out[0] = msg[0]!;
    out[1] = msg[1]!;
    // RD and CD are defined only for QUERY (RFC 1035 §4.1.1, RFC 4035 §3.2.2): a NOTIMP reply to
    // another opcode does not echo them.
    const query = q.opcode === 0;
    out[2] = 0x80 | (q.opcode << 3) | (query ? q.rd : 0);
    out[3] = (query ? q.cd : 0) | (rcode & 0x0f);
    out.fill(0, 4, 12);
    let pos = 12;
    if (q.qnameEnd > 0 && rcode !== RCODE.NOTIMP) {
      const qLen = q.qnameEnd + 4 - 12;
      copyBytes(msg, 12, out, 12, qLen);
      out[5] = 1;
      pos += qLen;
    }
    if (q.edns) {
      pos = this.#opt(pos, rcode >> 4, false, msg);
      out[11] = 1;
    }
    return pos;
  }

  /** OPT record: our buffer size, extended rcode, DO copied (RFC 3225), ECS echoed with scope. */
  #opt(pos: number, extRcode: number, ecs: boolean, msg: Uint8Array): number {
    const out = this.out;
    const q = this.q;
    // Byte stores rather than writeUInt16BE: no range checks on the query path.
    out[pos] = 0;
    out[pos + 1] = TYPE.OPT >> 8;
    out[pos + 2] = TYPE.OPT & 0xff;
    out[pos + 3] = EDNS_BUFFER >> 8;
    out[pos + 4] = EDNS_BUFFER & 0xff;
    out[pos + 5] = extRcode;
    out[pos + 6] = 0;
    out[pos + 7] = q.dnssecOk;
    out[pos + 8] = 0;
    const cookie = this.cookie !== COOKIE_NONE;
    const rdLen = (ecs ? 8 + q.ecsAddrLen : 0) + (cookie ? COOKIE_OPTION_LEN : 0);
    out[pos + 9] = rdLen >> 8;
    out[pos + 10] = rdLen & 0xff;
    pos += 11;
    if (ecs) {
      const optLen = 4 + q.ecsAddrLen;
      out[pos] = 0;
      out[pos + 1] = 8;
      out[pos + 2] = optLen >> 8;
      out[pos + 3] = optLen & 0xff;
      out[pos + 4] = q.ecsFamily >> 8;
      out[pos + 5] = q.ecsFamily & 0xff;
      out[pos + 6] = q.ecsSource;
      out[pos + 7] = this.usedEcs ? this.scope : 0;
      copyBytes(msg, q.ecsAddr, out, pos + 8, q.ecsAddrLen);
      pos += 8 + q.ecsAddrLen;
    }
    if (cookie) pos = this.#cookieOption(pos, msg);
    return pos;
  }

  /**
   * Our COOKIE option: the client cookie and a server cookie, the client's own while it is valid
   * and under half an hour old (RFC 9018 §4.3), else a fresh one.
   */
  #cookieOption(pos: number, msg: Uint8Array): number {
    const out = this.out;
    const q = this.q;
    out.writeUInt16BE(EDNS_OPTION_COOKIE, pos);
    out.writeUInt16BE(24, pos + 2);
    const c = q.cookieAt;
    if (this.cookie === COOKIE_VALID && !this.cookies!.stale(msg, c + 8, this.#now)) {
      copyBytes(msg, c, out, pos + 4, 24);
    } else {
      copyBytes(msg, c, out, pos + 4, 8);
      this.cookies!.issue(msg, c, this.#client, this.#now, out, pos + 12);
    }
    return pos + COOKIE_OPTION_LEN;
  }

  #write(
    msg: Uint8Array,
    rcode: number,
    aa: boolean,
    answer: Section,
    authority: Section | undefined,
    ownerWireLen: number,
    tcp: boolean,
    /** Records of a CNAME chain's target (the chain, in `answer`, says where the target's name is). */
    chained?: Chunk,
    /** DNSSEC denial records for the authority section, after the SOA (owned by the question). */
    proof?: Chunk,
  ): number {
    const q = this.q;
    const out = this.out;
    this.rcode = rcode;
    const qLen = q.qnameEnd + 4 - 12;
    const ecs = q.ecsFamily !== 0;
    const optLen = q.edns
      ? 11 + (ecs ? 8 + q.ecsAddrLen : 0) + (this.cookie !== COOKIE_NONE ? COOKIE_OPTION_LEN : 0)
      : 0;
    const max = tcp ? MAX_MESSAGE : q.edns ? Math.min(Math.max(q.udpSize, 512), EDNS_BUFFER) : 512;
    // DO set: the signed twin of each chunk where there is one (signed zones only).
    const dok = (q.dnssecOk & 0x80) !== 0;
    const an = dok ? (answer.answer.signed ?? answer.answer) : answer.answer;
    const chain = chained ? (dok ? (chained.signed ?? chained) : chained) : EMPTY;
    const nsBase = authority ? authority.answer : EMPTY;
    const ns = dok ? (nsBase.signed ?? nsBase) : nsBase;
    const pf = proof ?? EMPTY;
    // Glue of a referral is required (RFC 9471): it never gets dropped silently.
    const referral = authority !== undefined && !aa;
    let ad = referral ? authority.additional : answer.additional;
    const core = 12 + qLen + an.bytes.length + chain.bytes.length + ns.bytes.length + pf.bytes.length + optLen;
    let tc = false;
    if (core + ad.bytes.length > max) {
      if (core <= max && !referral) ad = EMPTY;
      else tc = true;
    }
    out[0] = msg[0]!;
    out[1] = msg[1]!;
    out[2] = 0x80 | (aa ? 0x04 : 0) | (tc ? 0x02 : 0) | q.rd;
    out[3] = q.cd | rcode;
    out[4] = 0;
    out[5] = 1;
    copyBytes(msg, 12, out, 12, qLen);
    let pos = 12 + qLen;
    if (tc) {
      // Truncated: header, question and OPT only; the client retries over TCP.
      this.truncated = true;
      out.fill(0, 6, 12);
      if (q.edns) {
        pos = this.#opt(pos, 0, ecs, msg);
        out[11] = 1;
      }
      return pos;
    }
    const anCount = an.count + chain.count;
    const nsCount = ns.count + pf.count;
    const arCount = ad.count + (q.edns ? 1 : 0);
    out[6] = anCount >> 8;
    out[7] = anCount & 0xff;
    out[8] = nsCount >> 8;
    out[9] = nsCount & 0xff;
    out[10] = arCount >> 8;
    out[11] = arCount & 0xff;
    const pointer = 0xc000 | (q.qnameEnd - ownerWireLen);
    pos = copyChunk(out, pos, an, pointer);
    if (chain.count > 0) {
      // The chained records are owned by the chain's final target: a name in the CNAME rdata.
      const targetPtr = 0xc000 | (12 + qLen + an.at!);
      const start = pos;
      chain.bytes.copy(out, pos);
      for (const o of chain.owners ?? []) {
        out[start + o] = targetPtr >> 8;
        out[start + o + 1] = targetPtr & 0xff;
      }
      pos += chain.bytes.length;
    }
    pos = copyChunk(out, pos, ns, pointer);
    pos = copyChunk(out, pos, pf, pointer);
    pos = copyChunk(out, pos, ad, pointer);
    if (q.edns) pos = this.#opt(pos, 0, ecs, msg);
    return pos;
  }
}

function copyChunk(out: Buffer, pos: number, c: Chunk, pointer: number): number {
  if (c.count === 0) return pos;
  const b = c.bytes;
  // Short chunks (an A or AAAA record: 16 or 28 bytes) in a loop; Buffer#copy is a call into C++.
  if (b.length <= 64) copyBytes(b, 0, out, pos, b.length);
  else out.set(b, pos);
  for (const p of c.patches) {
    out[pos + p] = pointer >> 8;
    out[pos + p + 1] = pointer & 0xff;
  }
  return pos + c.bytes.length;
}

/** A byte loop: these copies are short, and subarray + set allocates a view per query. */
function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, len: number): void {
  for (let i = 0; i < len; i++) dst[to + i] = src[from + i]!;
}

function isMapped(b: Uint8Array, off: number, available: number): boolean {
  if (available < 12) return false;
  for (let i = 0; i < 10; i++) if (b[off + i] !== 0) return false;
  return b[off + 10] === 0xff && b[off + 11] === 0xff;
}
