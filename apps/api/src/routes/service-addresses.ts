import { CatchmentError, IpText, Name } from '@catchment/core';
import { type Db, recordAudit } from '@catchment/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { actorOf, OPERATE } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { checkIfMatch, currentEtag } from '../etag.ts';
import { sendWithEtag } from '../resources/crud.ts';
import { serviceResource } from '../resources/services.ts';
import { errorResponses } from '../schemas.ts';

const Addresses = Type.Object(
  { v4: Type.Optional(Type.Array(IpText)), v6: Type.Optional(Type.Array(IpText)) },
  { additionalProperties: false },
);

/**
 * One edge's addresses of a service, without resending the whole service: the change
 * goes through the service's own validation, ETag (of the service) and audit.
 */
export function serviceAddressRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const params = Type.Object({ name: Type.String({ minLength: 1, maxLength: 253 }), edge: Name });
  const change = async (req: FastifyRequest, addresses: Static<typeof Addresses> | undefined) => {
    const { name, edge } = req.params as { name: string; edge: string };
    const actor = actorOf(req);
    const after = await ctx.db.transaction(async (txn) => {
      const tx = txn as unknown as Db;
      const existing = await serviceResource.get(tx, name, true);
      if (!existing) throw new CatchmentError('NOT_FOUND', `service "${name}" does not exist`);
      await checkIfMatch(req, tx, 'service', name, existing.value);
      const next = { ...existing.value, addresses: { ...existing.value.addresses } };
      if (addresses) next.addresses[edge] = addresses;
      else if (next.addresses[edge]) delete next.addresses[edge];
      else throw new CatchmentError('NOT_FOUND', `service "${name}" has no addresses on edge "${edge}"`);
      await serviceResource.validate(tx, next, existing);
      await serviceResource.update?.(tx, existing, next);
      const now = await serviceResource.get(tx, name);
      await recordAudit(tx, {
        actor,
        action: addresses ? 'set-addresses' : 'remove-addresses',
        objectType: 'service',
        objectId: existing.value.name,
        before: existing.value,
        after: now?.value,
      });
      return { now: now?.value, etag: await currentEtag(tx, 'service', name, now?.value) };
    });
    await ctx.changed(actor);
    return after;
  };
  app.put(
    '/v1/services/:name/addresses/:edge',
    {
      config: { access: OPERATE, ifMatch: true },
      schema: {
        tags: ['services'],
        summary: "Set one edge's addresses of a service (If-Match: the service's ETag)",
        params,
        body: Addresses,
        response: { 200: serviceResource.representation, ...errorResponses },
      },
    },
    async (req, reply) => {
      const after = await change(req, req.body as Static<typeof Addresses>);
      return sendWithEtag(req, reply, after.now, after.etag);
    },
  );
  app.delete(
    '/v1/services/:name/addresses/:edge',
    {
      config: { access: OPERATE, ifMatch: true },
      schema: {
        tags: ['services'],
        summary: "Remove one edge's addresses from a service",
        params,
        response: { 200: serviceResource.representation, ...errorResponses },
      },
    },
    async (req, reply) => {
      const after = await change(req, undefined);
      return sendWithEtag(req, reply, after.now, after.etag);
    },
  );
}
