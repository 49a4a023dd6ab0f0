import { createHash, type KeyObject, sign } from 'node:crypto';
import type { SnapshotDnssec, SnapshotDnssecKey } from '@catchment/core';
import { canonicalName, decryptPrivateKey, keyAad, privateKeyObject } from '@catchment/core/dnssec-keys';
import { labelCount, rrsigHead, signingInput } from './records.ts';

/**
 * Signs one zone's RRsets with its active keys. Signatures are made when a snapshot is compiled
 * and kept in a cache that outlives the snapshot: a new snapshot re-signs only the RRsets that
 * changed, and a signature is made again only when less than `refresh` of its validity is left.
 * `online` serves the few answers that depend on the query name (compact denial), from a
 * bounded cache of its own.
 */
export interface SignatureCache {
  entries: Map<string, { rdata: Buffer; expiration: number }>;
}

export const newSignatureCache = (): SignatureCache => ({ entries: new Map() });

interface SigningKey {
  tag: number;
  algorithm: number;
  key: KeyObject;
}

/** Query-name signatures kept per zone (random names are bounded by RRL and by this cap). */
const ONLINE_CACHE = 8192;
/** Signatures start an hour in the past, for validators whose clocks run slow. */
const INCEPTION_SKEW = 3600;

export class ZoneSigner {
  readonly zone: string;
  readonly apex: Buffer;
  readonly config: SnapshotDnssec;
  readonly #zoneKeys: SigningKey[];
  readonly #keyKeys: SigningKey[];
  readonly #cache: SignatureCache;
  readonly #used = new Set<string>();
  readonly #online = new Map<string, { rrsigs: Buffer[]; expiration: number }>();
  /** Unix seconds at which the first signature made or reused here needs renewing. */
  resignAt = Number.POSITIVE_INFINITY;
  #now: number;

  constructor(zone: string, config: SnapshotDnssec, kek: Buffer, cache: SignatureCache, now = Date.now()) {
    this.zone = zone;
    this.apex = canonicalName(zone);
    this.config = config;
    this.#cache = cache;
    this.#now = Math.floor(now / 1000);
    const load = (k: SnapshotDnssecKey): SigningKey => ({
      tag: k.tag,
      algorithm: k.algorithm,
      key: privateKeyObject(decryptPrivateKey(kek, k.privateKey!, keyAad(zone, k.tag, k.role))),
    });
    const signing = config.keys.filter((k) => k.signing && k.privateKey);
    this.#zoneKeys = signing.filter((k) => k.role !== 'ksk').map(load);
    this.#keyKeys = signing.filter((k) => k.role !== 'zsk').map(load);
    if (this.#zoneKeys.length === 0) throw new Error(`zone ${zone}: no active ZSK or CSK to sign with`);
    if (this.#keyKeys.length === 0) throw new Error(`zone ${zone}: no active KSK or CSK to sign the DNSKEY RRset`);
  }

  /** Published keys (DNSKEY RRset members). */
  get keys(): SnapshotDnssecKey[] {
    return this.config.keys;
  }

  /**
   * RRSIG RDATAs over one RRset, one per active key of the right kind (the KSK side for DNSKEY,
   * CDS and CDNSKEY, the ZSK side for everything else).
   */
  sign(owner: Buffer, type: number, ttl: number, rdatas: Buffer[], keySet = false): Buffer[] {
    const digest = rrsetDigest(owner, type, ttl, rdatas);
    const out: Buffer[] = [];
    for (const k of keySet ? this.#keyKeys : this.#zoneKeys) {
      const id = `${k.tag}/${k.algorithm}/${digest}`;
      this.#used.add(id);
      let hit = this.#cache.entries.get(id);
      if (!hit || hit.expiration - this.#now <= this.config.refresh) {
        hit = this.#make(k, owner, type, ttl, rdatas);
        this.#cache.entries.set(id, hit);
      }
      this.resignAt = Math.min(this.resignAt, hit.expiration - this.config.refresh);
      out.push(hit.rdata);
    }
    return out;
  }

  /**
   * Signatures for an RRset owned by the query name, made while answering and cached by owner
   * and content (bounded, oldest dropped first).
   */
  online(owner: Buffer, type: number, ttl: number, rdatas: Buffer[]): Buffer[] {
    const id = `${type}/${owner.toString('latin1')}/${rdatas.length === 1 ? rdatas[0]!.toString('latin1') : rrsetDigest(owner, type, ttl, rdatas)}`;
    const now = Math.floor(Date.now() / 1000);
    const hit = this.#online.get(id);
    if (hit && hit.expiration - now > this.config.refresh) return hit.rrsigs;
    this.#now = now;
    const made = this.#zoneKeys.map((k) => this.#make(k, owner, type, ttl, rdatas));
    if (this.#online.size >= ONLINE_CACHE) this.#online.delete(this.#online.keys().next().value!);
    this.#online.set(id, { rrsigs: made.map((m) => m.rdata), expiration: Math.min(...made.map((m) => m.expiration)) });
    return made.map((m) => m.rdata);
  }

  /** The signatures this signer made or reused, for the cache owner's pruning. */
  get used(): Set<string> {
    return this.#used;
  }

  #make(k: SigningKey, owner: Buffer, type: number, ttl: number, rdatas: Buffer[]) {
    const { validity, jitter } = this.config;
    const expiration = this.#now + validity + Math.floor(Math.random() * (jitter + 1));
    const head = rrsigHead(
      type,
      k.algorithm,
      labelCount(owner),
      ttl,
      expiration,
      this.#now - INCEPTION_SKEW,
      k.tag,
      this.apex,
    );
    const data = signingInput(head, owner, type, ttl, rdatas);
    const signature =
      k.algorithm === 13 ? sign('sha256', data, { key: k.key, dsaEncoding: 'ieee-p1363' }) : sign(null, data, k.key);
    return { rdata: Buffer.concat([head, signature]), expiration };
  }
}

function rrsetDigest(owner: Buffer, type: number, ttl: number, rdatas: Buffer[]): string {
  const h = createHash('sha256').update(owner).update(`${type}/${ttl}/`);
  for (const r of [...rdatas].sort(Buffer.compare)) h.update(`${r.length}:`).update(r);
  return h.digest('base64');
}

/** Removes from `cache` every signature no signer of the last compilation used. */
export function pruneCache(cache: SignatureCache, signers: (ZoneSigner | undefined)[]): void {
  const used = new Set<string>();
  for (const s of signers) for (const id of s?.used ?? []) used.add(id);
  for (const id of cache.entries.keys()) if (!used.has(id)) cache.entries.delete(id);
}
