import {
  CatchmentError,
  DnsName,
  normaliseName,
  RecordType,
  Soa,
  Ttl,
  type ZoneConfig,
  ZoneRecordConfig,
  zoneRecordErrors,
} from '@catchment/core';
import { type Db, exportConfig, schema } from '@catchment/db';
import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import { type Static, Type } from 'typebox';
import { fieldProblem } from '../problem.ts';
import type { ResourceSpec } from './crud.ts';
import { checkDomain } from './validate.ts';
import { type ZoneResource, zoneOf } from './view.ts';

const z = schema.zones;
const r = schema.records;

export const ZoneBody = Type.Object(
  { name: DnsName, ttl: Type.Optional(Ttl), soa: Soa, ns: Type.Array(DnsName, { minItems: 1 }) },
  { additionalProperties: false },
);
type ZoneBody = Static<typeof ZoneBody>;
export const ZoneRepresentation = Type.Object({ name: DnsName, ttl: Ttl, soa: Soa, ns: Type.Array(DnsName) });

function zoneColumns(b: ZoneBody) {
  return { name: normaliseName(b.name), ttl: b.ttl ?? 3600, soa: b.soa, ns: b.ns.map((n) => normaliseName(n)) };
}

export const zoneResource: ResourceSpec<ZoneResource, ZoneBody> = {
  kind: 'zone',
  path: 'zones',
  tag: 'zones',
  keyParam: 'zone',
  keySchema: DnsName,
  body: ZoneBody,
  representation: ZoneRepresentation,
  async list(db, _f, afterId, limit) {
    const rows = await db.select().from(z).where(gt(z.id, afterId)).orderBy(asc(z.id)).limit(limit);
    return rows.map((row) => ({ id: row.id, value: zoneOf(row) }));
  },
  async get(db, key, forUpdate) {
    const q = db
      .select()
      .from(z)
      .where(eq(z.name, normaliseName(key)));
    const [row] = forUpdate ? await q.for('update') : await q;
    return row ? { id: row.id, value: zoneOf(row) } : undefined;
  },
  keyOf: (b) => normaliseName(b.name),
  validate: (db, b) =>
    checkDomain(db, 'zones', { ...b } as ZoneConfig, (x) => normaliseName(x.name) === normaliseName(b.name)),
  async create(tx, b) {
    await tx.insert(z).values(zoneColumns(b));
    return normaliseName(b.name);
  },
  async update(tx, existing, b) {
    await tx
      .update(z)
      .set({ ...zoneColumns(b), updatedAt: new Date() })
      .where(eq(z.id, existing.id));
  },
  async remove(tx, existing) {
    await tx.delete(z).where(eq(z.id, existing.id));
  },
};

export const RecordRepresentation = Type.Object({
  id: Type.Integer(),
  zone: DnsName,
  name: DnsName,
  type: RecordType,
  /** Absent: the zone's ttl. */
  ttl: Type.Optional(Ttl),
  value: Type.String(),
});
type RecordRep = Static<typeof RecordRepresentation>;
type RecordBody = Omit<Static<typeof ZoneRecordConfig>, 'ttl'> & { zone: string; ttl?: number | null };

function recordOf(row: typeof r.$inferSelect, zone: string): RecordRep {
  return {
    id: row.id,
    zone,
    name: row.name,
    type: row.type as never,
    ...(row.ttl === null ? {} : { ttl: row.ttl }),
    value: row.value,
  };
}

async function zoneId(db: Db, name: string): Promise<number> {
  const [row] = await db
    .select({ id: z.id })
    .from(z)
    .where(eq(z.name, normaliseName(name)));
  if (!row) throw fieldProblem([{ path: '/zone', message: `unknown zone "${name}"`, code: 'REFERENCE_UNKNOWN' }]);
  return row.id;
}

/** Records are named by id under /v1/records; `zone` in the body and as a list filter. */
export const recordResource: ResourceSpec<RecordRep, RecordBody> = {
  kind: 'record',
  path: 'records',
  tag: 'zones',
  keyParam: 'id',
  keySchema: Type.String({ pattern: '^[0-9]{1,9}$' }),
  body: Type.Object(
    {
      ...ZoneRecordConfig.properties,
      // null as well as absent: the zone's ttl (so a representation can be sent back as it is).
      ttl: Type.Optional(Type.Union([Ttl, Type.Null()])),
      zone: DnsName,
    },
    { additionalProperties: false, required: ['zone', 'name', 'type', 'value'] },
  ),
  representation: RecordRepresentation,
  filters: { zone: Type.Optional(DnsName), name: Type.Optional(DnsName), type: Type.Optional(RecordType) },
  async list(db, f, afterId, limit) {
    const conds: SQL[] = [gt(r.id, afterId)];
    if (f.zone) conds.push(eq(z.name, normaliseName(String(f.zone))));
    if (f.name) conds.push(eq(r.name, normaliseName(String(f.name))));
    if (f.type) conds.push(eq(r.type, f.type as RecordRep['type']));
    const rows = await db
      .select({ rec: r, zone: z.name })
      .from(r)
      .innerJoin(z, eq(z.id, r.zoneId))
      .where(and(...conds))
      .orderBy(asc(r.id))
      .limit(limit);
    return rows.map((x) => ({ id: x.rec.id, value: recordOf(x.rec, x.zone) }));
  },
  async get(db, key, forUpdate) {
    const q = db
      .select({ rec: r, zone: z.name })
      .from(r)
      .innerJoin(z, eq(z.id, r.zoneId))
      .where(eq(r.id, Number(key)));
    const [x] = forUpdate ? await q.for('update', { of: r }) : await q;
    return x ? { id: x.rec.id, value: recordOf(x.rec, x.zone) } : undefined;
  },
  keyOf: () => undefined,
  async validate(db, b, existing) {
    const zone = normaliseName(b.zone);
    await zoneId(db, zone);
    // The zone's records as they would be after the write; only errors about the candidate count.
    const cfg = await exportConfig(db);
    const current = cfg.zones?.find((x) => normaliseName(x.name) === zone);
    const same = (x: { name: string; type: string; value: string }, rec: RecordRep) =>
      normaliseName(x.name, zone) === rec.name && x.type === rec.type && x.value === rec.value;
    const records = (current?.records ?? []).filter((x) => !(existing && same(x, existing.value)));
    records.push({
      name: b.name,
      type: b.type,
      value: b.value,
      ...(b.ttl === undefined || b.ttl === null ? {} : { ttl: b.ttl }),
    });
    const steered = new Set(cfg.services?.map((s) => normaliseName(s.name, normaliseName(s.zone))));
    const prefix = `/records/${records.length - 1}`;
    const errors = zoneRecordErrors({ ...(current as ZoneConfig), name: zone, records }, normaliseName, steered)
      .filter((e) => e.path.startsWith(`${prefix}/`))
      .map((e) => ({ ...e, path: e.path.slice(prefix.length) }));
    if (errors.length > 0) throw fieldProblem(errors);
  },
  async create(tx, b) {
    const zone = normaliseName(b.zone);
    const [row] = await tx
      .insert(r)
      .values({
        zoneId: await zoneId(tx, zone),
        name: normaliseName(b.name, zone),
        type: b.type,
        ttl: b.ttl ?? null,
        value: b.value,
      })
      .returning({ id: r.id });
    if (!row) throw new CatchmentError('INTERNAL', 'record insert returned nothing');
    return String(row.id);
  },
  async update(tx, existing, b) {
    const zone = normaliseName(b.zone);
    await tx
      .update(r)
      .set({
        zoneId: await zoneId(tx, zone),
        name: normaliseName(b.name, zone),
        type: b.type,
        ttl: b.ttl ?? null,
        value: b.value,
      })
      .where(eq(r.id, existing.id));
  },
  async remove(tx, existing) {
    await tx.delete(r).where(eq(r.id, existing.id));
  },
};
