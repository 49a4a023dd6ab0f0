import { ACTION_KINDS, type ActionKind, ActionParams, CatchmentError } from '@catchment/core';
import { schema } from '@catchment/db';
import { and, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, type TSchema, Type } from 'typebox';
import { createAction } from '../actions/create.ts';
import { activeNow, loadActions } from '../actions/records.ts';
import { revertActions } from '../actions/revert.ts';
import {
  ActionRecord,
  actionResponses,
  Common,
  IdempotencyHeaders,
  revertResponses,
  UndoBody,
} from '../actions/schemas.ts';
import { OPERATE, READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { decodeCursor, Page, PageQuery, pageOf } from '../pagination.ts';
import { fieldProblem } from '../problem.ts';
import { errorResponses, FreeForm } from '../schemas.ts';

const t = schema.actions;
const ActionKindSchema = Type.Enum([...ACTION_KINDS]);

/** /v1/actions: list, read, create any kind, revert one. The shorthands are in edge-actions, automation, prefix-actions. */
export function actionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/actions',
    {
      config: { access: READ },
      schema: {
        tags: ['actions'],
        summary: 'Operator and automated actions',
        querystring: Type.Object(
          {
            ...PageQuery,
            active: Type.Optional(Type.Boolean()),
            kind: Type.Optional(ActionKindSchema),
            edge: Type.Optional(Type.String({ maxLength: 63 })),
            source: Type.Optional(Type.Union([Type.Literal('operator'), Type.Literal('automation')])),
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(ActionRecord), ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query as {
        limit?: number;
        cursor?: string;
        active?: boolean;
        kind?: string;
        edge?: string;
        source?: string;
      };
      const limit = q.limit ?? 100;
      const conds: (SQL | undefined)[] = [gt(t.id, decodeCursor(q.cursor))];
      if (q.kind) conds.push(eq(t.kind, q.kind));
      if (q.source) conds.push(eq(t.source, q.source));
      if (q.edge) conds.push(eq(schema.edges.name, q.edge));
      if (q.active === true) conds.push(activeNow());
      if (q.active === false) conds.push(sql`not (${activeNow()})`);
      const rows = await loadActions(ctx.db, and(...conds), limit + 1);
      return pageOf(
        rows,
        limit,
        (r) => r.id,
        (r) => r,
      );
    },
  );

  app.get(
    '/v1/actions/:id',
    {
      config: { access: READ },
      schema: {
        tags: ['actions'],
        summary: 'One action',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: ActionRecord, ...errorResponses },
      },
    },
    async (req) => {
      const [a] = await loadActions(ctx.db, eq(t.id, (req.params as { id: number }).id));
      if (!a) throw new CatchmentError('NOT_FOUND', 'no such action');
      return a;
    },
  );

  const GenericBody = Type.Object(
    {
      kind: ActionKindSchema,
      edge: Type.Optional(Type.String({ maxLength: 63 })),
      params: Type.Optional(FreeForm("the kind's parameters (packages/core actions.ts)")),
      ...Common,
    },
    { additionalProperties: false },
  );
  app.post(
    '/v1/actions',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['actions'],
        summary: 'Create any action (the specific routes below are shorthands); Idempotency-Key supported',
        body: GenericBody,
        headers: IdempotencyHeaders,
        response: actionResponses,
      },
    },
    async (req, reply) => {
      const b = req.body as Static<typeof GenericBody>;
      const params = b.params ?? {};
      const schemaOf = ActionParams[b.kind] as TSchema;
      const { Value } = await import('typebox/value');
      const errors = [...Value.Errors(schemaOf, params)].map((e) => ({
        path: `/params${e.instancePath}`,
        message: e.message,
        code: 'VALIDATION_FAILED' as const,
      }));
      if (errors.length > 0) throw fieldProblem(errors);
      return createAction(ctx, req, reply, { kind: b.kind, edge: b.edge ?? null, params }, b);
    },
  );

  app.post(
    '/v1/actions/:id/revert',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['actions'],
        summary: 'Revert one action (idempotent)',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        body: UndoBody,
        response: revertResponses,
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: number };
      const [a] = await loadActions(ctx.db, eq(t.id, id));
      if (!a) throw new CatchmentError('NOT_FOUND', `action ${id} does not exist`);
      return revertActions(
        ctx,
        req,
        reply,
        eq(t.id, id),
        { kind: a.kind as ActionKind, edge: a.edge, params: a.params, revert: true },
        req.body as UndoBody,
        String(id),
      );
    },
  );
}
