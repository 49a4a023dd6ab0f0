import {
  Name,
  type PlaybookConfig,
  PlaybookConfig as PlaybookSchema,
  type SloConfig,
  SloMetric,
  SloConfig as SloSchema,
  type TransitConfig,
  TransitConfig as TransitSchema,
} from '@catchment/core';
import { type Db, schema, sloColumns } from '@catchment/db';
import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import { Type } from 'typebox';
import type { ResourceSpec } from './crud.ts';
import { checkDomain } from './validate.ts';
import { loadNames, playbookOf, sloOf, transitOf } from './view.ts';

/** Transits, SLOs and playbooks: one row each, no children. */

const tr = schema.transits;
export const transitResource: ResourceSpec<TransitConfig> = {
  kind: 'transit',
  path: 'transits',
  tag: 'transits',
  keyParam: 'name',
  keySchema: Name,
  body: TransitSchema,
  representation: TransitSchema,
  async list(db, _f, afterId, limit) {
    const rows = await db.select().from(tr).where(gt(tr.id, afterId)).orderBy(asc(tr.id)).limit(limit);
    return rows.map((r) => ({ id: r.id, value: transitOf(r) }));
  },
  async get(db, key, forUpdate) {
    const q = db.select().from(tr).where(eq(tr.name, key));
    const [r] = forUpdate ? await q.for('update') : await q;
    return r ? { id: r.id, value: transitOf(r) } : undefined;
  },
  keyOf: (b) => b.name,
  validate: (db, b) => checkDomain(db, 'transits', b, (x) => x.name === b.name),
  async create(tx, b) {
    await tx.insert(tr).values({ name: b.name, asn: b.asn, intents: b.intents });
    return b.name;
  },
  async update(tx, existing, b) {
    await tx.update(tr).set({ asn: b.asn, intents: b.intents }).where(eq(tr.id, existing.id));
  },
  async remove(tx, existing) {
    await tx.delete(tr).where(eq(tr.id, existing.id));
  },
};

const sl = schema.slos;
async function edgeId(db: Db, name: string | undefined): Promise<number | null> {
  if (!name) return null;
  const [r] = await db.select({ id: schema.edges.id }).from(schema.edges).where(eq(schema.edges.name, name));
  return r?.id ?? null;
}
async function sloRow(db: Db, b: SloConfig) {
  return sloColumns(b, await edgeId(db, b.edge));
}
export const sloResource: ResourceSpec<SloConfig> = {
  kind: 'slo',
  path: 'slos',
  tag: 'slos',
  keyParam: 'name',
  keySchema: Name,
  body: SloSchema,
  representation: SloSchema,
  filters: { edge: Type.Optional(Name), metric: Type.Optional(SloMetric) },
  async list(db, f, afterId, limit) {
    const conds: SQL[] = [gt(sl.id, afterId)];
    if (f.edge) conds.push(eq(sl.edgeId, (await edgeId(db, String(f.edge))) ?? 0));
    if (f.metric) conds.push(eq(sl.metric, f.metric as SloConfig['metric']));
    const rows = await db
      .select()
      .from(sl)
      .where(and(...conds))
      .orderBy(asc(sl.id))
      .limit(limit);
    const names = await loadNames(db);
    return rows.map((r) => ({ id: r.id, value: sloOf(r, names) }));
  },
  async get(db, key, forUpdate) {
    const q = db.select().from(sl).where(eq(sl.name, key));
    const [r] = forUpdate ? await q.for('update') : await q;
    return r ? { id: r.id, value: sloOf(r, await loadNames(db)) } : undefined;
  },
  keyOf: (b) => b.name,
  validate: (db, b) => checkDomain(db, 'slos', b, (x) => x.name === b.name),
  async create(tx, b) {
    await tx.insert(sl).values(await sloRow(tx, b));
    return b.name;
  },
  async update(tx, existing, b) {
    await tx
      .update(sl)
      .set({ ...(await sloRow(tx, b)), updatedAt: new Date() })
      .where(eq(sl.id, existing.id));
  },
  async remove(tx, existing) {
    await tx.delete(sl).where(eq(sl.id, existing.id));
  },
};

const pb = schema.playbooks;
function playbookColumns(b: PlaybookConfig) {
  return { name: b.name, mode: b.mode ?? 'auto', trigger: b.trigger, steps: b.steps, cooldown: b.cooldown ?? null };
}
export const playbookResource: ResourceSpec<PlaybookConfig> = {
  kind: 'playbook',
  path: 'playbooks',
  tag: 'playbooks',
  keyParam: 'name',
  keySchema: Name,
  body: PlaybookSchema,
  representation: PlaybookSchema,
  bodyCode: 'PLAYBOOK_INVALID',
  async list(db, _f, afterId, limit) {
    const rows = await db.select().from(pb).where(gt(pb.id, afterId)).orderBy(asc(pb.id)).limit(limit);
    return rows.map((r) => ({ id: r.id, value: playbookOf(r) }));
  },
  async get(db, key, forUpdate) {
    const q = db.select().from(pb).where(eq(pb.name, key));
    const [r] = forUpdate ? await q.for('update') : await q;
    return r ? { id: r.id, value: playbookOf(r) } : undefined;
  },
  keyOf: (b) => b.name,
  validate: (db, b) => checkDomain(db, 'playbooks', b, (x) => x.name === b.name),
  async create(tx, b) {
    await tx.insert(pb).values(playbookColumns(b));
    return b.name;
  },
  async update(tx, existing, b) {
    await tx
      .update(pb)
      .set({ ...playbookColumns(b), updatedAt: new Date() })
      .where(eq(pb.id, existing.id));
  },
  async remove(tx, existing) {
    await tx.delete(pb).where(eq(pb.id, existing.id));
  },
};
