import { Name, type PolicyConfig, PolicyConfig as PolicySchema } from '@catchment/core';
import { type Db, schema, writePolicyRules } from '@catchment/db';
import { asc, eq, gt } from 'drizzle-orm';
import type { ResourceSpec } from './crud.ts';
import { checkDomain } from './validate.ts';
import { loadNames, loadPolicies } from './view.ts';

const t = schema.policies;

async function writeRules(tx: Db, policyId: number, b: PolicyConfig): Promise<void> {
  const names = await loadNames(tx);
  const edgeIds = new Map([...names.edges].map(([id, name]) => [name, id]));
  await writePolicyRules(tx, policyId, b.rules, (edge) => edgeIds.get(edge) ?? 0);
}

async function one(db: Db, where: ReturnType<typeof eq>) {
  const rows = await db.select({ id: t.id }).from(t).where(where);
  if (rows.length === 0) return [];
  const all = await loadPolicies(db);
  return all.filter((x) => rows.some((r) => r.id === x.id));
}

export const policyResource: ResourceSpec<PolicyConfig> = {
  kind: 'policy',
  path: 'policies',
  tag: 'policies',
  keyParam: 'name',
  keySchema: Name,
  body: PolicySchema,
  representation: PolicySchema,
  async list(db, _f, afterId, limit) {
    const ids = await db.select({ id: t.id }).from(t).where(gt(t.id, afterId)).orderBy(asc(t.id)).limit(limit);
    const all = await loadPolicies(db);
    return ids.map(({ id }) => {
      const { id: _i, ...value } = all.find((x) => x.id === id) ?? { id, name: '', rules: [] };
      return { id, value };
    });
  },
  async get(db, key, forUpdate) {
    if (forUpdate) await db.select({ id: t.id }).from(t).where(eq(t.name, key)).for('update');
    const [found] = await one(db, eq(t.name, key));
    if (!found) return undefined;
    const { id, ...value } = found;
    return { id, value };
  },
  keyOf: (b) => b.name,
  validate: (db, b) => checkDomain(db, 'policies', b, (x) => x.name === b.name),
  async create(tx, b) {
    const [row] = await tx
      .insert(t)
      .values({ name: b.name, description: b.description ?? null })
      .returning({ id: t.id });
    if (row) await writeRules(tx, row.id, b);
    return b.name;
  },
  async update(tx, existing, b) {
    await tx
      .update(t)
      .set({ description: b.description ?? null, updatedAt: new Date() })
      .where(eq(t.id, existing.id));
    await writeRules(tx, existing.id, b);
  },
  async remove(tx, existing) {
    await tx.delete(t).where(eq(t.id, existing.id));
  },
};
