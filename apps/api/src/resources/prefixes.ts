import {
  CidrText,
  CommunityText,
  cidrProblem,
  Name,
  type PrefixConfig,
  PrefixConfig as PrefixSchema,
  parseCidr,
} from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { and, asc, eq, gt, inArray, type SQL } from 'drizzle-orm';
import { Type } from 'typebox';
import type { ResourceSpec } from './crud.ts';
import { checkDomain } from './validate.ts';
import { loadNames, type PrefixResource, prefixOf } from './view.ts';

const p = schema.prefixes;
const a = schema.prefixAnnouncers;

export const PrefixRepresentation = Type.Object({
  id: Type.Integer(),
  cidr: CidrText,
  kind: Type.Union([Type.Literal('unicast'), Type.Literal('anycast')]),
  edge: Type.Optional(Name),
  announcers: Type.Optional(Type.Array(Name)),
  supernet: Type.Optional(CidrText),
  communities: Type.Array(CommunityText),
});

function canonical(text: string): string | undefined {
  return cidrProblem(text) ? undefined : parseCidr(text).text;
}

async function withRelations(
  db: Db,
  rows: (typeof p.$inferSelect)[],
): Promise<{ id: number; value: PrefixResource }[]> {
  if (rows.length === 0) return [];
  const names = await loadNames(db);
  const ann = await db
    .select()
    .from(a)
    .where(
      inArray(
        a.prefixId,
        rows.map((r) => r.id),
      ),
    );
  return rows.map((r) => ({
    id: r.id,
    value: prefixOf(
      r,
      names,
      ann
        .filter((x) => x.prefixId === r.id)
        .map((x) => names.edges.get(x.edgeId) ?? '')
        .sort(),
    ),
  }));
}

async function idsOf(db: Db, table: typeof schema.edges, names: string[]): Promise<number[]> {
  if (names.length === 0) return [];
  const rows = await db.select({ id: table.id, name: table.name }).from(table).where(inArray(table.name, names));
  return names.map((n) => rows.find((r) => r.name === n)?.id ?? 0);
}

async function columns(db: Db, b: PrefixConfig) {
  const cidr = parseCidr(b.cidr).text;
  if (b.kind === 'anycast')
    return { cidr, kind: b.kind, edgeId: null, supernetId: null, communities: b.communities ?? [] };
  const [edgeId] = await idsOf(db, schema.edges, [b.edge]);
  let supernetId: number | null = null;
  if (b.supernet) {
    const [sup] = await db
      .select({ id: p.id })
      .from(p)
      .where(eq(p.cidr, parseCidr(b.supernet).text));
    supernetId = sup?.id ?? null;
  }
  return { cidr, kind: b.kind, edgeId: edgeId ?? null, supernetId, communities: b.communities ?? [] };
}

async function writeAnnouncers(tx: Db, prefixId: number, b: PrefixConfig): Promise<void> {
  await tx.delete(a).where(eq(a.prefixId, prefixId));
  if (b.kind !== 'anycast') return;
  const ids = await idsOf(tx, schema.edges, [...new Set(b.announcers)]);
  if (ids.length > 0) await tx.insert(a).values(ids.map((edgeId) => ({ prefixId, edgeId })));
}

/** Prefixes are named by their CIDR in the URL (`/v1/prefixes/198.18.1.0%2F24`). */
export const prefixResource: ResourceSpec<PrefixResource, PrefixConfig> = {
  kind: 'prefix',
  path: 'prefixes',
  tag: 'prefixes',
  keyParam: 'cidr',
  keySchema: Type.String({ minLength: 3, maxLength: 49, description: 'the CIDR, URL-encoded (/ as %2F)' }),
  body: PrefixSchema,
  representation: PrefixRepresentation,
  filters: {
    kind: Type.Optional(Type.Union([Type.Literal('unicast'), Type.Literal('anycast')])),
    edge: Type.Optional(Name),
  },
  async list(db, f, afterId, limit) {
    const conds: SQL[] = [gt(p.id, afterId)];
    if (f.kind) conds.push(eq(p.kind, f.kind as 'unicast' | 'anycast'));
    if (f.edge) {
      const [edgeId] = await idsOf(db, schema.edges, [String(f.edge)]);
      conds.push(eq(p.edgeId, edgeId ?? 0));
    }
    const rows = await db
      .select()
      .from(p)
      .where(and(...conds))
      .orderBy(asc(p.id))
      .limit(limit);
    return withRelations(db, rows);
  },
  async get(db, key, forUpdate) {
    const cidr = canonical(key);
    if (!cidr) return undefined;
    const q = db.select().from(p).where(eq(p.cidr, cidr));
    const rows = forUpdate ? await q.for('update') : await q;
    return (await withRelations(db, rows))[0];
  },
  keyOf: (b) => canonical(b.cidr) ?? b.cidr,
  validate: (db, b) => checkDomain(db, 'prefixes', b, (x) => canonical(x.cidr) === canonical(b.cidr)),
  async create(tx, b) {
    const [row] = await tx
      .insert(p)
      .values(await columns(tx, b))
      .returning({ id: p.id, cidr: p.cidr });
    if (row) await writeAnnouncers(tx, row.id, b);
    return row?.cidr ?? b.cidr;
  },
  async update(tx, existing, b) {
    await tx
      .update(p)
      .set({ ...(await columns(tx, b)), updatedAt: new Date() })
      .where(eq(p.id, existing.id));
    await writeAnnouncers(tx, existing.id, b);
  },
  async remove(tx, existing) {
    await tx.delete(p).where(eq(p.id, existing.id));
  },
};
