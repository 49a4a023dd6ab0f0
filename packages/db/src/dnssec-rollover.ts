import { CatchmentError, kekId } from '@catchment/core';
import { and, eq, isNull } from 'drizzle-orm';
import { recordAudit } from './audit.ts';
import type { Db } from './connection.ts';
import {
  algorithmOf,
  createKey,
  DNSSEC_DEFAULTS,
  dnssecEnabled,
  type KeyRow,
  liveKeys,
  requireKek,
  zoneDnssecConfig,
} from './dnssec.ts';
import * as t from './schema.ts';

/**
 * Key rollovers (RFC 6781 §4.1, RFC 7583), driven step by step through the API or CLI; each
 * step may be taken once the caches that could hold the previous state have expired, a time
 * computed from the zone's TTLs when the step before was taken.
 *
 * ZSK, pre-publish: `published` (new key in DNSKEY, not signing; wait DNSKEY TTL) → `active`
 * (new key signs, old one retired but still in DNSKEY; wait the longest TTL of a signed RRset)
 * → `done` (old key removed).
 * KSK (or CSK), double signature: `double-signed` (new key in DNSKEY and signing beside the old;
 * wait DNSKEY TTL) → `ds-swap` (CDS/CDNSKEY name the new key: put its DS at the parent, then wait
 * the parent's DS TTL) → `done` (old key removed).
 */
export type RolloverKind = 'zsk' | 'ksk';

/** Added to every wait: time for every DNS server to load the new snapshot, and clock skew. */
export const PROPAGATION_MARGIN_S = 300;

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** The longest TTL a validator may have cached for a signed RRset of the zone (negative answers included). */
async function maxTtl(db: Tx, zone: string): Promise<{ dnskey: number; max: number }> {
  const [z] = await db.select().from(t.zones).where(eq(t.zones.name, zone));
  const recs = await db.select({ ttl: t.records.ttl }).from(t.records).where(eq(t.records.zoneId, z!.id));
  const svcs = await db.select({ ttl: t.services.ttl }).from(t.services).where(eq(t.services.zoneId, z!.id));
  const soa = z!.soa as { minimum: number };
  const ttls = [z!.ttl, Math.min(z!.ttl, soa.minimum), ...recs.map((r) => r.ttl ?? z!.ttl), ...svcs.map((s) => s.ttl)];
  return { dnskey: z!.ttl, max: Math.max(...ttls) };
}

const later = (now: Date, seconds: number) => new Date(now.getTime() + (seconds + PROPAGATION_MARGIN_S) * 1000);

async function setKey(db: Tx, k: KeyRow, change: Partial<Pick<KeyRow, 'state' | 'ds'>>, now: Date) {
  await db
    .update(t.dnssecKeys)
    .set({ ...change, stateChangedAt: now })
    .where(eq(t.dnssecKeys.id, k.id));
}

export async function startRollover(
  db: Db,
  zone: string,
  kind: RolloverKind,
  opts: { kek: Buffer | undefined; actor: string; now?: Date; reason?: string },
) {
  const now = opts.now ?? new Date();
  return db.transaction(async (tx) => {
    await tx.select().from(t.zones).where(eq(t.zones.name, zone)).for('update');
    const cfg = await zoneDnssecConfig(tx, zone);
    if (!dnssecEnabled(cfg)) throw new CatchmentError('DNSSEC_NOT_ENABLED', `zone ${zone} is not signed`);
    const kek = requireKek(opts.kek, zone);
    const [open] = await tx
      .select()
      .from(t.dnssecRollovers)
      .where(
        and(eq(t.dnssecRollovers.zone, zone), eq(t.dnssecRollovers.kind, kind), isNull(t.dnssecRollovers.finishedAt)),
      );
    if (open) {
      throw new CatchmentError(
        'STATE_CONFLICT',
        `a ${kind} rollover of ${zone} is in progress (id ${open.id}, ${open.step})`,
        {
          details: { rollover: open.id },
        },
      );
    }
    const keys = await liveKeys(tx, zone);
    // Every key of a zone under one KEK: a key that DNS servers cannot open would leave the zone
    // without a signer the moment it became active.
    const foreign = keys.find((k) => k.privateKey.split(':')[1] !== kekId(kek));
    if (foreign) {
      throw new CatchmentError(
        'DNSSEC_KEK_MISMATCH',
        `the keys of ${zone} are encrypted with KEK ${foreign.privateKey.split(':')[1]}, not with the configured one (${kekId(kek)})`,
      );
    }
    const active = keys.filter((k) => k.state === 'active');
    const ttl = await maxTtl(tx, zone);
    let old: KeyRow | undefined;
    let created: KeyRow;
    let step: string;
    if (kind === 'zsk') {
      old = active.find((k) => k.role === 'zsk');
      if (!old)
        throw new CatchmentError(
          'STATE_CONFLICT',
          `zone ${zone} has no active ZSK (it uses a CSK: roll it with kind "ksk")`,
        );
      created = await createKey(tx, kek, zone, 'zsk', algorithmOf(cfg), 'published');
      step = 'published';
    } else {
      old = active.find((k) => k.role !== 'zsk');
      if (!old) throw new CatchmentError('STATE_CONFLICT', `zone ${zone} has no active KSK or CSK`);
      created = await createKey(tx, kek, zone, old.role as 'ksk' | 'csk', algorithmOf(cfg), 'active');
      step = 'double-signed';
    }
    const [row] = await tx
      .insert(t.dnssecRollovers)
      .values({
        zone,
        kind,
        step,
        oldKeyId: old.id,
        newKeyId: created.id,
        nextStepAt: later(now, ttl.dnskey),
        startedAt: now,
      })
      .returning();
    await recordAudit(tx, {
      actor: opts.actor,
      action: 'dnssec-rollover-start',
      objectType: 'zone',
      objectId: zone,
      reason: opts.reason ?? null,
      after: { rollover: row!.id, kind, step, oldKey: old.keyTag, newKey: created.keyTag },
    });
    return row!;
  });
}

export async function advanceRollover(
  db: Db,
  zone: string,
  id: number,
  opts: { actor: string; now?: Date; force?: boolean; reason?: string },
) {
  const now = opts.now ?? new Date();
  return db.transaction(async (tx) => {
    const [r] = await tx
      .select()
      .from(t.dnssecRollovers)
      .where(and(eq(t.dnssecRollovers.id, id), eq(t.dnssecRollovers.zone, zone)))
      .for('update');
    if (!r) throw new CatchmentError('NOT_FOUND', `zone ${zone} has no rollover ${id}`);
    if (r.finishedAt) throw new CatchmentError('STATE_CONFLICT', `rollover ${id} is finished`);
    if (r.nextStepAt && now < r.nextStepAt && !opts.force) {
      throw new CatchmentError(
        'ROLLOVER_WAITING',
        `rollover ${id} (${r.step}) may take its next step at ${r.nextStepAt.toISOString()}, when caches of the previous state have expired`,
        { details: { nextStepAt: r.nextStepAt.toISOString(), step: r.step } },
      );
    }
    const [oldKey] = await tx.select().from(t.dnssecKeys).where(eq(t.dnssecKeys.id, r.oldKeyId!));
    const [newKey] = await tx.select().from(t.dnssecKeys).where(eq(t.dnssecKeys.id, r.newKeyId!));
    const ttl = await maxTtl(tx, zone);
    const cfg = await zoneDnssecConfig(tx, zone);
    let step: string;
    let nextStepAt: Date | null;
    if (r.kind === 'zsk' && r.step === 'published') {
      await setKey(tx, newKey!, { state: 'active' }, now);
      await setKey(tx, oldKey!, { state: 'retired' }, now);
      step = 'active';
      nextStepAt = later(now, ttl.max);
    } else if (r.kind === 'ksk' && r.step === 'double-signed') {
      await setKey(tx, newKey!, { ds: true }, now);
      await setKey(tx, oldKey!, { ds: false }, now);
      step = 'ds-swap';
      nextStepAt = later(now, cfg?.parentDsTtl ?? DNSSEC_DEFAULTS.parentDsTtl);
    } else {
      await setKey(tx, oldKey!, { state: 'removed', ds: false }, now);
      step = 'done';
      nextStepAt = null;
    }
    const [row] = await tx
      .update(t.dnssecRollovers)
      .set({ step, nextStepAt, ...(step === 'done' ? { finishedAt: now } : {}) })
      .where(eq(t.dnssecRollovers.id, id))
      .returning();
    await recordAudit(tx, {
      actor: opts.actor,
      action: 'dnssec-rollover-step',
      objectType: 'zone',
      objectId: zone,
      reason: opts.reason ?? null,
      forced: !!opts.force && !!r.nextStepAt && now < r.nextStepAt,
      before: { rollover: id, step: r.step },
      after: { rollover: id, step, nextStepAt: nextStepAt?.toISOString() ?? null },
    });
    return row!;
  });
}
