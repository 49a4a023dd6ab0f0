import { CatchmentError, CommunityText } from '@catchment/core';
import { type Db, recordAudit } from '@catchment/db';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { actorOf, OPERATE } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { checkIfMatch, currentEtag } from '../etag.ts';
import { sendWithEtag } from '../resources/crud.ts';
import { prefixResource } from '../resources/prefixes.ts';
import { prefixConfigOf } from '../resources/view.ts';
import { errorResponses } from '../schemas.ts';

const Communities = Type.Array(CommunityText, { maxItems: 64 });

/**
 * The configured communities of one prefix (standing configuration; a temporary change
 * is the `communities` action). Same validation, ETag (of the prefix) and audit as PUT.
 */
export function prefixCommunityRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.put(
    '/v1/prefixes/:cidr/communities',
    {
      config: { access: OPERATE, ifMatch: true },
      schema: {
        tags: ['prefixes'],
        summary: "Replace a prefix's communities (If-Match: the prefix's ETag)",
        params: Type.Object({ cidr: Type.String({ minLength: 3, maxLength: 49 }) }),
        body: Communities,
        response: { 200: prefixResource.representation, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { cidr } = req.params as { cidr: string };
      const communities = req.body as Static<typeof Communities>;
      const actor = actorOf(req);
      const after = await ctx.db.transaction(async (txn) => {
        const tx = txn as unknown as Db;
        const existing = await prefixResource.get(tx, cidr, true);
        if (!existing) throw new CatchmentError('NOT_FOUND', `prefix ${cidr} does not exist`);
        await checkIfMatch(req, tx, 'prefix', cidr, existing.value);
        const next = { ...prefixConfigOf(existing.value), communities };
        await prefixResource.validate(tx, next, existing);
        await prefixResource.update?.(tx, existing, next);
        const now = await prefixResource.get(tx, cidr);
        await recordAudit(tx, {
          actor,
          action: 'set-communities',
          objectType: 'prefix',
          objectId: existing.value.cidr,
          before: existing.value,
          after: now?.value,
        });
        return { now: now?.value, etag: await currentEtag(tx, 'prefix', cidr, now?.value) };
      });
      await ctx.changed(actor);
      return sendWithEtag(req, reply, after.now, after.etag);
    },
  );
}
