import { CatchmentError } from '@catchment/core';
import { recordAudit, schema } from '@catchment/db';
import { and, asc, eq, gt, isNotNull, isNull, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { ADMIN, actorOf } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { decodeCursor, Page, PageQuery, pageOf } from '../pagination.ts';
import { fieldProblem } from '../problem.ts';
import { errorResponses, Reason, Timestamp } from '../schemas.ts';
import { createToken, ROLES, tokenInfo } from '../tokens.ts';

const RoleSchema = Type.Enum([...ROLES]);
const TokenInfo = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  role: RoleSchema,
  scope: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  revokedAt: Type.Union([Timestamp, Type.Null()]),
  lastUsedAt: Type.Union([Timestamp, Type.Null()]),
});
const CreateToken = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{0,62}$' }),
    role: RoleSchema,
    scope: Type.Optional(Type.String({ maxLength: 128, description: 'agent tokens: the consumer it reports for' })),
    expiresAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

/** Tokens: admin only. The secret is in the creation response and nowhere else, ever. */
export function tokenRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const t = schema.apiTokens;
  app.get(
    '/v1/tokens',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['tokens'],
        summary: 'List tokens (never their secrets)',
        querystring: Type.Object(
          { ...PageQuery, role: Type.Optional(RoleSchema), revoked: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 200: Page(TokenInfo), ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query as { limit?: number; cursor?: string; role?: (typeof ROLES)[number]; revoked?: boolean };
      const limit = q.limit ?? 100;
      const conds: SQL[] = [gt(t.id, decodeCursor(q.cursor))];
      if (q.role) conds.push(eq(t.role, q.role));
      if (q.revoked === false) conds.push(isNull(t.revokedAt));
      if (q.revoked === true) conds.push(isNotNull(t.revokedAt));
      const rows = await ctx.db
        .select()
        .from(t)
        .where(and(...conds))
        .orderBy(asc(t.id))
        .limit(limit + 1);
      return pageOf(rows, limit, (r) => r.id, tokenInfo);
    },
  );

  app.post(
    '/v1/tokens',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['tokens'],
        summary: 'Create a token; the response is the only place its secret ever appears',
        body: CreateToken,
        response: { 201: Type.Object({ token: Type.String(), info: TokenInfo }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const b = req.body as Static<typeof CreateToken>;
      const actor = actorOf(req);
      if (b.expiresAt && Date.parse(b.expiresAt) <= Date.now())
        throw fieldProblem([{ path: '/expiresAt', message: 'expiry is in the past', code: 'VALIDATION_FAILED' }]);
      const created = await ctx.db.transaction(async (tx) => {
        const made = await createToken(tx, {
          name: b.name,
          role: b.role,
          scope: b.scope ?? null,
          expiresAt: b.expiresAt ? new Date(b.expiresAt) : null,
        });
        await recordAudit(tx, { actor, action: 'create', objectType: 'token', objectId: b.name, after: made.info });
        return made;
      });
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/v1/tokens/:id',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke a token (effective at once)',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        body: Type.Optional(Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false })),
        response: { 200: TokenInfo, ...errorResponses },
      },
    },
    async (req) => {
      const { id } = req.params as { id: number };
      const reason = (req.body as { reason?: string } | undefined)?.reason ?? null;
      const actor = actorOf(req);
      const revoked = await ctx.db.transaction(async (tx) => {
        const [row] = await tx.select().from(t).where(eq(t.id, id)).for('update');
        if (!row) throw new CatchmentError('NOT_FOUND', `token ${id} does not exist`);
        if (row.revokedAt) return tokenInfo(row);
        const [after] = await tx.update(t).set({ revokedAt: new Date() }).where(eq(t.id, id)).returning();
        if (!after) throw new CatchmentError('INTERNAL', 'token update returned nothing');
        await recordAudit(tx, {
          actor,
          action: 'revoke',
          objectType: 'token',
          objectId: row.name,
          reason,
          before: tokenInfo(row),
          after: tokenInfo(after),
        });
        return tokenInfo(after);
      });
      ctx.tokens.forget(id);
      return revoked;
    },
  );
}
