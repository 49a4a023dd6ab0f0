import { CatchmentError, cidrProblem, parseCidr } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { and, eq, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { createAction } from '../actions/create.ts';
import { revertActions } from '../actions/revert.ts';
import { actionResponses, type CommonBody, IdempotencyHeaders, revertResponses, UndoBody } from '../actions/schemas.ts';
import { OPERATE } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { GlobalBody } from './automation.ts';

const t = schema.actions;
const PrefixParams = Type.Object({ cidr: Type.String({ minLength: 3, maxLength: 49 }) });

/** The unicast prefix at `cidr` and its edge; a supernet or an unknown prefix is refused. */
async function unicastPrefix(db: Db, cidr: string): Promise<{ id: number; edge: string; cidr: string }> {
  const problem = cidrProblem(cidr);
  if (problem) throw new CatchmentError('NOT_FOUND', `prefix ${cidr} does not exist (${problem})`);
  const [p] = await db
    .select({
      id: schema.prefixes.id,
      kind: schema.prefixes.kind,
      edge: schema.edges.name,
      cidr: schema.prefixes.cidr,
    })
    .from(schema.prefixes)
    .leftJoin(schema.edges, eq(schema.edges.id, schema.prefixes.edgeId))
    .where(eq(schema.prefixes.cidr, parseCidr(cidr).text));
  if (!p) throw new CatchmentError('NOT_FOUND', `prefix ${cidr} does not exist`);
  if (p.kind !== 'unicast' || !p.edge)
    throw new CatchmentError('STATE_CONFLICT', `${p.cidr} is an anycast supernet: only unicast prefixes are withdrawn`);
  return { id: p.id, edge: p.edge, cidr: p.cidr };
}

/** Withdraw and restore a unicast prefix. */
export function prefixActionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post(
    '/v1/prefixes/:cidr/withdraw',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['actions'],
        summary: 'Withdraw a unicast prefix (its traffic follows the covering supernet)',
        params: PrefixParams,
        body: GlobalBody,
        headers: IdempotencyHeaders,
        response: actionResponses,
      },
    },
    async (req, reply) => {
      const p = await unicastPrefix(ctx.db, (req.params as { cidr: string }).cidr);
      return createAction(
        ctx,
        req,
        reply,
        { kind: 'withdraw-unicast', edge: p.edge, params: { prefix: p.cidr } },
        req.body as CommonBody,
      );
    },
  );
  app.post(
    '/v1/prefixes/:cidr/restore',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['actions'],
        summary: 'Restore (re-announce) a withdrawn unicast prefix',
        params: PrefixParams,
        body: UndoBody,
        response: revertResponses,
      },
    },
    async (req, reply) => {
      const p = await unicastPrefix(ctx.db, (req.params as { cidr: string }).cidr);
      return revertActions(
        ctx,
        req,
        reply,
        and(eq(t.kind, 'withdraw-unicast'), eq(t.prefixId, p.id)) as SQL,
        { kind: 'withdraw-unicast', edge: p.edge, params: { prefix: p.cidr }, revert: true },
        req.body as UndoBody,
        p.cidr,
      );
    },
  );
}
