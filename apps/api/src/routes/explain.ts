import { CatchmentError, cidrProblem, DnsName, ipFamily, normaliseName, type Snapshot } from '@catchment/core';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { errorResponses } from '../schemas.ts';

export interface ExplainQuery {
  /** Query name, lower case, no final dot. */
  name: string;
  /** Client address or subnet (as an ECS option carries it). */
  client?: string;
  /** Resolver address: decides when there is no client subnet (as without ECS). */
  resolver?: string;
}

/**
 * The DNS decision with its trace, from packages/geo: the seam of GET /v1/explain.
 * `catchment start` passes the geo package's function; it runs on the latest snapshot.
 */
export type Explain = (snapshot: Snapshot, query: ExplainQuery) => unknown | Promise<unknown>;

export function explainRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/explain',
    {
      config: { access: READ },
      schema: {
        tags: ['explain'],
        summary: 'The answer DNS would give a client (or resolver) for a name, with the decision trace',
        querystring: Type.Object(
          {
            name: DnsName,
            client: Type.Optional(Type.String({ minLength: 2, maxLength: 49, description: 'IP address or CIDR' })),
            resolver: Type.Optional(Type.String({ minLength: 2, maxLength: 45 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            snapshotVersion: Type.Integer(),
            query: Type.Object({
              name: Type.String(),
              client: Type.Optional(Type.String()),
              resolver: Type.Optional(Type.String()),
            }),
            decision: Type.Unknown({ description: 'answer and trace, as packages/geo reports them' }),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const q = req.query as { name: string; client?: string; resolver?: string };
      if (q.client === undefined && q.resolver === undefined)
        throw new CatchmentError('INVALID_QUERY', 'give client (address or subnet) or resolver, or both', {
          errors: [{ path: 'client', message: 'client or resolver is required' }],
        });
      const clientOk =
        q.client === undefined || (q.client.includes('/') ? !cidrProblem(q.client) : ipFamily(q.client) !== undefined);
      if (!clientOk)
        throw new CatchmentError('INVALID_QUERY', `client "${q.client}" is not an IP address or CIDR`, {
          errors: [{ path: 'client', message: 'must be an IP address or a CIDR with host bits zero' }],
        });
      if (q.resolver !== undefined && ipFamily(q.resolver) === undefined)
        throw new CatchmentError('INVALID_QUERY', `resolver "${q.resolver}" is not an IP address`, {
          errors: [{ path: 'resolver', message: 'must be an IP address' }],
        });
      if (!ctx.explain)
        throw new CatchmentError('EXPLAIN_UNAVAILABLE', 'this API runs without the geo decision function');
      const snap = await ctx.hub.latest();
      if (!snap) throw new CatchmentError('NO_SNAPSHOT', 'no snapshot has been published yet');
      const query: ExplainQuery = { name: normaliseName(q.name) };
      if (q.client) query.client = q.client;
      if (q.resolver) query.resolver = q.resolver;
      return { snapshotVersion: snap.version, query, decision: await ctx.explain(snap, query) };
    },
  );
}
