import { DnsName, normaliseName, type ServiceConfig, ServiceConfig as ServiceSchema } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import { Type } from 'typebox';
import type { ResourceSpec } from './crud.ts';
import { checkDomain } from './validate.ts';
import { loadNames, loadServices } from './view.ts';

const t = schema.services;

/** Names are stored absolute: `www` in zone `example.net` is `www.example.net`. */
function absolute(b: ServiceConfig): ServiceConfig {
  const zone = normaliseName(b.zone);
  return { ...b, zone, name: normaliseName(b.name, zone) };
}

async function columns(db: Db, b: ServiceConfig) {
  const names = await loadNames(db);
  const byName = (m: Map<number, string>, n: string | undefined) =>
    n === undefined ? null : ([...m].find(([, v]) => v === n)?.[0] ?? null);
  return {
    name: b.name,
    zoneId: byName(names.zones, b.zone) ?? 0,
    ttl: b.ttl ?? 30,
    policyId: byName(names.policies, b.policy),
    ports: b.ports ?? [80, 443],
    anycastV4: b.anycast.v4 ?? null,
    anycastV6: b.anycast.v6 ?? null,
    edgeIds: new Map([...names.edges].map(([id, name]) => [name, id])),
  };
}

async function writeAddresses(tx: Db, serviceId: number, b: ServiceConfig, edgeIds: Map<string, number>) {
  await tx.delete(schema.serviceAddresses).where(eq(schema.serviceAddresses.serviceId, serviceId));
  const rows = Object.entries(b.addresses).flatMap(([edge, addr]) =>
    [...(addr.v4 ?? []), ...(addr.v6 ?? [])].map((address) => ({ serviceId, edgeId: edgeIds.get(edge) ?? 0, address })),
  );
  if (rows.length > 0) await tx.insert(schema.serviceAddresses).values(rows);
}

export const serviceResource: ResourceSpec<ServiceConfig> = {
  kind: 'service',
  path: 'services',
  tag: 'services',
  keyParam: 'name',
  keySchema: DnsName,
  body: ServiceSchema,
  representation: ServiceSchema,
  filters: { zone: Type.Optional(DnsName) },
  async list(db, f, afterId, limit) {
    const conds: SQL[] = [gt(t.id, afterId)];
    if (f.zone)
      conds.push(sql`${t.zoneId} = (select id from ${schema.zones} where name = ${normaliseName(String(f.zone))})`);
    const ids = await db
      .select({ id: t.id })
      .from(t)
      .where(and(...conds))
      .orderBy(asc(t.id))
      .limit(limit);
    const all = await loadServices(db);
    return ids.map(({ id }) => {
      const { id: _i, ...value } = all.find((x) => x.id === id) as ServiceConfig & { id: number };
      return { id, value };
    });
  },
  async get(db, key, forUpdate) {
    const q = db
      .select({ id: t.id })
      .from(t)
      .where(eq(t.name, normaliseName(key)));
    const [row] = forUpdate ? await q.for('update') : await q;
    if (!row) return undefined;
    const found = (await loadServices(db)).find((x) => x.id === row.id);
    if (!found) return undefined;
    const { id, ...value } = found;
    return { id, value };
  },
  keyOf: (b) => absolute(b).name,
  // Validated as given: a final dot makes a name absolute, which normalising would hide.
  validate: (db, b) => checkDomain(db, 'services', b, (x) => x.name === absolute(b).name),
  async create(tx, body) {
    const b = absolute(body);
    const { edgeIds, ...cols } = await columns(tx, b);
    const [row] = await tx.insert(t).values(cols).returning({ id: t.id });
    if (row) await writeAddresses(tx, row.id, b, edgeIds);
    return b.name;
  },
  async update(tx, existing, body) {
    const b = absolute(body);
    const { edgeIds, ...cols } = await columns(tx, b);
    await tx
      .update(t)
      .set({ ...cols, updatedAt: new Date() })
      .where(eq(t.id, existing.id));
    await writeAddresses(tx, existing.id, b, edgeIds);
  },
  async remove(tx, existing) {
    await tx.delete(t).where(eq(t.id, existing.id));
  },
};
