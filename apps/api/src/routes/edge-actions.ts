import { type ActionKind, ActionParams, CatchmentError } from '@catchment/core';
import { schema } from '@catchment/db';
import { and, eq, inArray, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type TSchema, Type } from 'typebox';
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
const EdgeParams = Type.Object({ name: Type.String({ maxLength: 63 }) });

/** Shorthands on an edge: drain, force-down, shift... and their undo. */
export function edgeActionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const edgeId = async (name: string) => {
    const [e] = await ctx.db.select({ id: schema.edges.id }).from(schema.edges).where(eq(schema.edges.name, name));
    if (!e) throw new CatchmentError('NOT_FOUND', `edge "${name}" does not exist`);
    return e.id;
  };
  const edgeAction = (path: string, kind: ActionKind, params: TSchema | undefined, summary: string) => {
    const Body = Type.Object({ ...(params ? { params } : {}), ...Common }, { additionalProperties: false });
    app.post(
      `/v1/edges/:name/${path}`,
      {
        config: { access: OPERATE },
        schema: {
          tags: ['actions'],
          summary,
          params: EdgeParams,
          body: Body,
          headers: IdempotencyHeaders,
          response: actionResponses,
        },
      },
      async (req, reply) => {
        const b = req.body as CommonBody & { params?: Record<string, unknown> };
        const { name } = req.params as { name: string };
        return createAction(ctx, req, reply, { kind, edge: name, params: b.params ?? {} }, b);
      },
    );
  };
  const edgeUndo = (path: string, kinds: ActionKind[], summary: string) => {
    app.post(
      `/v1/edges/:name/${path}`,
      {
        config: { access: OPERATE },
        schema: { tags: ['actions'], summary, params: EdgeParams, body: UndoBody, response: revertResponses },
      },
      async (req, reply) => {
        const { name } = req.params as { name: string };
        const id = await edgeId(name);
        return revertActions(
          ctx,
          req,
          reply,
          and(eq(t.edgeId, id), inArray(t.kind, kinds)) as SQL,
          { kind: kinds[0] as ActionKind, edge: name, params: {}, revert: true },
          req.body as UndoBody,
          `${name}:${path}`,
        );
      },
    );
  };
  edgeAction('drain', 'drain', undefined, 'Drain an edge: DNS stops answering with it (routes stay)');
  edgeUndo('undrain', ['drain'], 'Undo drain actions of an edge');
  edgeAction('force-down', 'force-down', undefined, 'Force an edge down: no DNS answers, its announcements withdrawn');
  edgeAction('force-up', 'force-up', undefined, 'Force an edge up whatever its configured state');
  edgeUndo('release', ['force-down', 'force-up'], 'Undo force-down / force-up of an edge');
  edgeAction('freeze', 'freeze', undefined, 'Freeze automation for one edge');
  edgeUndo('unfreeze', ['freeze'], 'Unfreeze automation for one edge');
  edgeAction('shift', 'dns-shift', ActionParams['dns-shift'], "Shift N % of an edge's DNS answers to other edges");
  edgeUndo('unshift', ['dns-shift'], 'Undo DNS shifts of an edge');
  edgeAction('communities', 'communities', ActionParams.communities, "Add BGP communities to an edge's announcements");
  edgeUndo('clear-communities', ['communities'], 'Undo community actions of an edge');
  edgeAction('dsr', 'dsr-shed', ActionParams['dsr-shed'], 'Set DSR shedding of new flows to other edges');
  edgeUndo('undsr', ['dsr-shed'], 'Undo DSR shedding of an edge');
}
