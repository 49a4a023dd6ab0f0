import { CatchmentError, CountryCode, DnsName } from '@catchment/core';
import { schema } from '@catchment/db';
import { and, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { createAction } from '../actions/create.ts';
import { activeNow, loadActions } from '../actions/records.ts';
import { revertActions } from '../actions/revert.ts';
import {
  ActionRecord,
  actionResponses,
  Common,
  type CommonBody,
  IdempotencyHeaders,
  revertResponses,
  UndoBody,
} from '../actions/schemas.ts';
import { OPERATE, READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { decodeCursor, Page, PageQuery, pageOf } from '../pagination.ts';
import { errorResponses } from '../schemas.ts';

const t = schema.actions;

/**
 * Pinned answers (safety rule 8): `pin` actions under their own path. A pin is an action like
 * the others (reason, ttl or expiresAt, dryRun, force, Idempotency-Key, audit, revert), so
 * `POST /v1/actions` with kind `pin` is the same thing; this is the shorthand operators use.
 */
export function pinRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const PinBody = Type.Object(
    {
      edge: Type.String({ maxLength: 63, description: 'the edge the clients are pinned to' }),
      cidr: Type.Optional(
        Type.String({ minLength: 3, maxLength: 49, description: 'client prefix (ECS source or resolver address)' }),
      ),
      country: Type.Optional(
        Type.String({
          pattern: (CountryCode as { pattern?: string }).pattern ?? '^[A-Z]{2}$',
          description: 'client country (GeoIP), ISO 3166-1 alpha-2',
        }),
      ),
      name: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 253,
          pattern: (DnsName as { pattern?: string }).pattern,
          description: 'the service; absent: every service',
        }),
      ),
      ...Common,
    },
    { additionalProperties: false },
  );

  app.get(
    '/v1/pins',
    {
      config: { access: READ },
      schema: {
        tags: ['actions'],
        summary: 'Pinned answers (pin actions), active ones unless active=false',
        querystring: Type.Object(
          {
            ...PageQuery,
            active: Type.Optional(Type.Boolean({ default: true })),
            edge: Type.Optional(Type.String({ maxLength: 63 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(ActionRecord), ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query as { limit?: number; cursor?: string; active?: boolean; edge?: string };
      const limit = q.limit ?? 100;
      const conds: (SQL | undefined)[] = [gt(t.id, decodeCursor(q.cursor)), eq(t.kind, 'pin')];
      if (q.edge) conds.push(eq(schema.edges.name, q.edge));
      if (q.active !== false) conds.push(activeNow());
      else conds.push(sql`not (${activeNow()})`);
      const rows = await loadActions(ctx.db, and(...conds), limit + 1);
      return pageOf(
        rows,
        limit,
        (r) => r.id,
        (r) => r,
      );
    },
  );

  app.post(
    '/v1/pins',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['actions'],
        summary: "Pin clients (a prefix or a country) to an edge's answer; beats automation; Idempotency-Key supported",
        body: PinBody,
        headers: IdempotencyHeaders,
        response: actionResponses,
      },
    },
    async (req, reply) => {
      const b = req.body as Static<typeof PinBody>;
      const params: Record<string, unknown> = {};
      if (b.cidr !== undefined) params.cidr = b.cidr;
      if (b.country !== undefined) params.country = b.country;
      if (b.name !== undefined) params.name = b.name;
      return createAction(ctx, req, reply, { kind: 'pin', edge: b.edge, params }, b as CommonBody);
    },
  );

  app.delete(
    '/v1/pins/:id',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['actions'],
        summary: 'Remove a pin (reverts its action; idempotent)',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        body: UndoBody,
        response: revertResponses,
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: number };
      const [a] = await loadActions(ctx.db, and(eq(t.id, id), eq(t.kind, 'pin')));
      if (!a) throw new CatchmentError('NOT_FOUND', `pin ${id} does not exist`);
      return revertActions(
        ctx,
        req,
        reply,
        eq(t.id, id),
        { kind: 'pin', edge: a.edge, params: a.params, revert: true },
        req.body as UndoBody,
        String(id),
      );
    },
  );
}
