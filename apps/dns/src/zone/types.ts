import type { SteeringTable } from '@catchment/geo';
import type { BlockCounts } from '../block-counts.ts';
import type { ZoneSigner } from '../dnssec/signer.ts';
import type { NameTable } from './name-table.ts';

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
