import {
  ALGORITHM_NAMES,
  CatchmentError,
  DNSSEC_ALGORITHMS,
  type DnssecAlgorithm,
  dnskeyRdata,
  dnskeyText,
  dsText,
  encryptPrivateKey,
  FLAGS_KSK,
  FLAGS_ZSK,
  generateDnssecKey,
  keyAad,
  keyTag,
  parseDuration,
  type SnapshotDnssec,
  type ZoneDnssecConfig,
} from '@catchment/core';
import { and, asc, eq, ne } from 'drizzle-orm';
import type { Db } from './connection.ts';
import * as t from './schema.ts';

/**
 * DNSSEC key management in the database: key creation for signed zones, the keys' part of the
 * snapshot, and the DS for the parent. Rollovers are in dnssec-rollover.ts.
 */
type Tx = Pick<Db, 'select' | 'insert' | 'update'>;
export type KeyRow = typeof t.dnssecKeys.$inferSelect;
export type KeyRole = 'ksk' | 'zsk' | 'csk';

export const DNSSEC_DEFAULTS = {
  algorithm: 'ECDSAP256SHA256',
  keys: 'ksk-zsk',
  signatureValidity: '14d',
  refresh: '7d',
  jitter: '12h',
  parentDsTtl: 86400,
} as const;

export function dnssecEnabled(cfg: ZoneDnssecConfig | null | undefined): cfg is ZoneDnssecConfig {
  return !!cfg && cfg.enabled !== false;
}

export function algorithmOf(cfg: ZoneDnssecConfig): DnssecAlgorithm {
  return DNSSEC_ALGORITHMS[cfg.algorithm ?? DNSSEC_DEFAULTS.algorithm];
}

/** Creates, encrypts and stores one key (not committed to any state but `state`). */
export async function createKey(
  db: Tx,
  kek: Buffer,
  zone: string,
  role: KeyRole,
  algorithm: DnssecAlgorithm,
  state: 'published' | 'active',
  ds = false,
): Promise<KeyRow> {
  const flags = role === 'zsk' ? FLAGS_ZSK : FLAGS_KSK;
  const key = generateDnssecKey(algorithm);
  const tag = keyTag(dnskeyRdata(flags, algorithm, key.publicKey));
  const [row] = await db
    .insert(t.dnssecKeys)
    .values({
      zone,
      role,
      algorithm,
      flags,
      keyTag: tag,
      publicKey: key.publicKey.toString('base64'),
      privateKey: encryptPrivateKey(kek, key.privateKey, keyAad(zone, tag, role)),
      state,
      ds,
    })
    .returning();
  return row!;
}

export function requireKek(kek: Buffer | undefined, zone: string): Buffer {
  if (!kek) {
    throw new CatchmentError(
      'DNSSEC_KEK_MISSING',
      `zone ${zone} is signed but no key-encryption key is configured (CATCHMENT_DNSSEC_KEK or CATCHMENT_DNSSEC_KEK_FILE)`,
    );
  }
  return kek;
}

/** Keys of every zone that are still part of it (not removed), oldest first. */
export async function liveKeys(db: Pick<Db, 'select'>, zone?: string): Promise<KeyRow[]> {
  const live = ne(t.dnssecKeys.state, 'removed');
  return db
    .select()
    .from(t.dnssecKeys)
    .where(zone ? and(live, eq(t.dnssecKeys.zone, zone)) : live)
    .orderBy(asc(t.dnssecKeys.id));
}

/**
 * Gives every signed zone without live keys its first keys (a CSK, or a KSK and a ZSK), active
 * and with their DS listed in CDS. Run before each compilation; a no-op once keys exist.
 * Without a KEK no key is made and the zone stays unsigned (safe: without keys there can be no
 * DS at the parent); `dnssecStatus` says why. Once keys exist, publishing needs no KEK at all
 * (their ciphertext goes into the snapshot as it is).
 */
export async function ensureZoneKeys(db: Tx, kek: Buffer | undefined): Promise<KeyRow[]> {
  const zones = await db.select({ name: t.zones.name, dnssec: t.zones.dnssec }).from(t.zones);
  const keys = await liveKeys(db);
  const created: KeyRow[] = [];
  for (const z of zones) {
    const cfg = z.dnssec as ZoneDnssecConfig | null;
    if (!dnssecEnabled(cfg) || keys.some((k) => k.zone === z.name)) continue;
    if (!kek) continue;
    const k = kek;
    const alg = algorithmOf(cfg);
    if ((cfg.keys ?? DNSSEC_DEFAULTS.keys) === 'csk') {
      created.push(await createKey(db, k, z.name, 'csk', alg, 'active', true));
    } else {
      created.push(await createKey(db, k, z.name, 'ksk', alg, 'active', true));
      created.push(await createKey(db, k, z.name, 'zsk', alg, 'active'));
    }
  }
  return created;
}

const seconds = (d: string) => Math.round(parseDuration(d) / 1000);

/** The zone's `dnssec` part of the snapshot: timing and keys (private keys of signing keys only, encrypted). */
export function snapshotDnssec(cfg: ZoneDnssecConfig, keys: KeyRow[]): SnapshotDnssec {
  return {
    validity: seconds(cfg.signatureValidity ?? DNSSEC_DEFAULTS.signatureValidity),
    refresh: seconds(cfg.refresh ?? DNSSEC_DEFAULTS.refresh),
    jitter: seconds(cfg.jitter ?? DNSSEC_DEFAULTS.jitter),
    keys: keys.map((k) => ({
      tag: k.keyTag,
      role: k.role as KeyRole,
      algorithm: k.algorithm as DnssecAlgorithm,
      flags: k.flags,
      publicKey: k.publicKey,
      signing: k.state === 'active',
      ds: k.ds,
      ...(k.state === 'active' ? { privateKey: k.privateKey } : {}),
    })),
  };
}

/** What the API and CLI show of a key: never the private key. */
export function describeKey(zone: string, k: KeyRow) {
  const pub = Buffer.from(k.publicKey, 'base64');
  const rdata = dnskeyRdata(k.flags, k.algorithm, pub);
  return {
    id: k.id,
    tag: k.keyTag,
    role: k.role,
    algorithm: ALGORITHM_NAMES[k.algorithm as DnssecAlgorithm],
    state: k.state,
    ds: k.ds,
    dnskey: `${zone}. IN DNSKEY ${dnskeyText(k.flags, k.algorithm, pub)}`,
    ...(k.role === 'zsk' ? {} : { dsRecord: `${zone}. IN DS ${dsText(zone, rdata)}` }),
    createdAt: k.createdAt.toISOString(),
    stateChangedAt: k.stateChangedAt.toISOString(),
  };
}

export async function zoneDnssecConfig(db: Pick<Db, 'select'>, zone: string) {
  const [z] = await db.select({ dnssec: t.zones.dnssec }).from(t.zones).where(eq(t.zones.name, zone));
  if (!z) throw new CatchmentError('NOT_FOUND', `zone ${zone} does not exist`);
  return z.dnssec as ZoneDnssecConfig | null;
}

/** A zone's DNSSEC status for the API and CLI: keys, the DS records to give the parent, rollovers. */
export async function dnssecStatus(db: Pick<Db, 'select'>, zone: string) {
  const cfg = await zoneDnssecConfig(db, zone);
  const keys = await liveKeys(db, zone);
  const rollovers = await db
    .select()
    .from(t.dnssecRollovers)
    .where(eq(t.dnssecRollovers.zone, zone))
    .orderBy(asc(t.dnssecRollovers.id));
  const open = rollovers.filter((r) => r.finishedAt === null);
  return {
    zone,
    enabled: dnssecEnabled(cfg),
    config: { ...DNSSEC_DEFAULTS, ...(cfg ?? {}) },
    keys: keys.map((k) => describeKey(zone, k)),
    ds: keys.filter((k) => k.ds).map((k) => describeKey(zone, k).dsRecord!),
    rollovers: rollovers.map((r) => ({
      id: r.id,
      kind: r.kind,
      step: r.step,
      oldKey: r.oldKeyId,
      newKey: r.newKeyId,
      nextStepAt: r.nextStepAt?.toISOString() ?? null,
      startedAt: r.startedAt.toISOString(),
      finishedAt: r.finishedAt?.toISOString() ?? null,
    })),
    rolling: open.length > 0,
    ...(dnssecEnabled(cfg) && keys.length === 0
      ? { pending: 'no keys yet: set CATCHMENT_DNSSEC_KEK or CATCHMENT_DNSSEC_KEK_FILE and publish' }
      : {}),
  };
}
