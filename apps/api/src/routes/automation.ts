import { schema } from '@catchment/db';
import { and, eq, isNull, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { createAction } from '../actions/create.ts';
import { revertActions } from '../actions/revert.ts';
import {
  actionResponses,
  Common,
  type CommonBody,
  IdempotencyHeaders,
  revertResponses,
  UndoBody,
} from '../actions/schemas.ts';
import { OPERATE } from '../auth.ts';
import type { ApiContext } from '../context.ts';

const t = schema.actions;
export const GlobalBody = Type.Object(Common, { additionalProperties: false });

/** The global automation freeze (one edge's freeze is in edge-actions). */
export function automationRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post(
    '/v1/automation/freeze',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['actions'],
        summary: 'Freeze automation globally',
        body: GlobalBody,
        headers: IdempotencyHeaders,
        response: actionResponses,
      },
    },
    async (req, reply) =>
      createAction(ctx, req, reply, { kind: 'freeze', edge: null, params: {} }, req.body as CommonBody),
  );
  app.post(
    '/v1/automation/unfreeze',
    {
      config: { access: OPERATE },
      schema: { tags: ['actions'], summary: 'Unfreeze automation globally', body: UndoBody, response: revertResponses },
    },
    async (req, reply) =>
      revertActions(
        ctx,
        req,
        reply,
        and(eq(t.kind, 'freeze'), isNull(t.edgeId)) as SQL,
        { kind: 'freeze', edge: null, params: {}, revert: true },
        req.body as UndoBody,
        'automation:unfreeze',
      ),
  );
}
