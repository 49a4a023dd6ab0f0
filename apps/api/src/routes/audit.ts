import { schema } from '@catchment/db';
import { and, desc, eq, gte, lt, lte, ne, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { actorFilter } from '../actor-view.ts';
import { READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { decodeCursor, Page, pageOf } from '../pagination.ts';
import { errorResponses, Timestamp } from '../schemas.ts';

export const AuditRecord = Type.Object({
  id: Type.Integer(),
  at: Timestamp,
  actor: Type.String(),
  action: Type.String(),
  objectType: Type.String(),
  objectId: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  forced: Type.Boolean(),
  before: Type.Unknown(),
  after: Type.Unknown(),
});

/** The audit log, newest first, filtered by actor, object and time. */
export function auditRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const t = schema.auditLog;
  app.get(
    '/v1/audit',
    {
      config: { access: READ },
      schema: {
        tags: ['audit'],
        summary: 'Audit log, newest first (token records: admins only)',
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            actor: Type.Optional(
              Type.String({
                maxLength: 200,
                description: 'Who wrote the entry; non-admins name a token actor by id (`token:#<id>`)',
              }),
            ),
            action: Type.Optional(Type.String({ maxLength: 100 })),
            objectType: Type.Optional(Type.String({ maxLength: 100 })),
            objectId: Type.Optional(Type.String({ maxLength: 300 })),
            forced: Type.Optional(Type.Boolean()),
            since: Type.Optional(Timestamp),
            until: Type.Optional(Timestamp),
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(AuditRecord), ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query as Record<string, string | number | boolean | undefined>;
      const limit = Number(q.limit ?? 100);
      const conds: SQL[] = [];
      // Viewers and operators read everything except tokens (names, roles, expiry): admins only.
      if (req.principal?.role !== 'admin') conds.push(ne(t.objectType, 'token'));
      const before = decodeCursor(q.cursor as string | undefined);
      if (before > 0) conds.push(lt(t.id, before));
      if (q.actor) {
        const actor = await actorFilter(ctx.db, req, String(q.actor));
        if (actor === null) return { items: [], nextCursor: null };
        conds.push(eq(t.actor, actor));
      }
      if (q.action) conds.push(eq(t.action, String(q.action)));
      if (q.objectType) conds.push(eq(t.objectType, String(q.objectType)));
      if (q.objectId) conds.push(eq(t.objectId, String(q.objectId)));
      if (q.forced !== undefined) conds.push(eq(t.forced, Boolean(q.forced)));
      if (q.since) conds.push(gte(t.at, new Date(String(q.since))));
      if (q.until) conds.push(lte(t.at, new Date(String(q.until))));
      const rows = await ctx.db
        .select()
        .from(t)
        .where(and(...conds))
        .orderBy(desc(t.id))
        .limit(limit + 1);
      return pageOf(
        rows,
        limit,
        (r) => r.id,
        (r) => ({ ...r, at: r.at.toISOString() }),
      );
    },
  );
}
