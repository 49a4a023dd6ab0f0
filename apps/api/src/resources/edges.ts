import { type EdgeConfig, EdgeOverride, EdgeConfig as EdgeSchema, EdgeState, Name } from '@catchment/core';
import { type Db, edgeColumns, schema } from '@catchment/db';
import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import { Type } from 'typebox';
import type { ResourceSpec } from './crud.ts';
import { checkDomain } from './validate.ts';
import { edgeOf } from './view.ts';

const t = schema.edges;

const columns = edgeColumns;

export const edgeResource: ResourceSpec<EdgeConfig> = {
  kind: 'edge',
  path: 'edges',
  tag: 'edges',
  keyParam: 'name',
  keySchema: Name,
  body: EdgeSchema,
  representation: EdgeSchema,
  filters: {
    state: Type.Optional(EdgeState),
    override: Type.Optional(EdgeOverride),
    continent: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
  },
  async list(db: Db, f, afterId, limit) {
    const conds: SQL[] = [gt(t.id, afterId)];
    if (f.state) conds.push(eq(t.state, f.state as EdgeConfig['state'] & string));
    if (f.override) conds.push(eq(t.override, f.override as NonNullable<EdgeConfig['override']>));
    if (f.continent) conds.push(eq(t.continent, String(f.continent)));
    if (f.country) conds.push(eq(t.country, String(f.country)));
    const rows = await db
      .select()
      .from(t)
      .where(and(...conds))
      .orderBy(asc(t.id))
      .limit(limit);
    return rows.map((r) => ({ id: r.id, value: edgeOf(r) }));
  },
  async get(db, key, forUpdate) {
    const q = db.select().from(t).where(eq(t.name, key));
    const [r] = forUpdate ? await q.for('update') : await q;
    return r ? { id: r.id, value: edgeOf(r) } : undefined;
  },
  keyOf: (b) => b.name,
  validate: (db, b) => checkDomain(db, 'edges', b, (e) => e.name === b.name),
  async create(tx, b) {
    await tx.insert(t).values(columns(b));
    return b.name;
  },
  async update(tx, existing, b) {
    await tx
      .update(t)
      .set({ ...columns(b), updatedAt: new Date() })
      .where(eq(t.id, existing.id));
  },
  async remove(tx, existing) {
    await tx.delete(t).where(eq(t.id, existing.id));
  },
};
