import { CatchmentError, DnsName, dnssecConfigErrors, loadKek, normaliseName, ZoneDnssecConfig } from '@catchment/core';
import { advanceRollover, type Db, dnssecStatus, recordAudit, schema, startRollover } from '@catchment/db';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { ADMIN, actorOf, READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { errorResponses } from '../schemas.ts';

/**
 * A zone's DNSSEC: settings (on/off, algorithm, key layout, signature timing), keys with the DS
 * records for the parent, and key rollovers step by step (packages/db/src/dnssec-rollover.ts).
 * The private keys never leave the database through the API.
 */
const Status = Type.Object(
  {
    zone: Type.String(),
    enabled: Type.Boolean(),
    config: Type.Object({}, { additionalProperties: true }),
    keys: Type.Array(Type.Object({}, { additionalProperties: true })),
    ds: Type.Array(Type.String()),
    rollovers: Type.Array(Type.Object({}, { additionalProperties: true })),
    rolling: Type.Boolean(),
    pending: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
const ZoneParam = Type.Object({ zone: DnsName });
const RolloverParam = Type.Object({ zone: DnsName, id: Type.Integer({ minimum: 1 }) });
const StartBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('zsk'), Type.Literal('ksk')]),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
const AdvanceBody = Type.Object(
  {
    /** Take the step before its waiting time is over (recorded as forced in the audit log). */
    force: Type.Optional(Type.Boolean()),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

export function dnssecRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const zoneOf = (req: { params: unknown }) => normaliseName((req.params as { zone: string }).zone);
  app.get(
    '/v1/zones/:zone/dnssec',
    {
      config: { access: READ },
      schema: {
        tags: ['dnssec'],
        summary: "A zone's DNSSEC: settings, keys, DS records for the parent, rollovers and their next step",
        params: ZoneParam,
        response: { 200: Status, ...errorResponses },
      },
    },
    async (req) => dnssecStatus(ctx.db, zoneOf(req)),
  );
  app.put(
    '/v1/zones/:zone/dnssec',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['dnssec'],
        summary: 'Set the DNSSEC settings of a zone (enabled: false serves it unsigned and keeps its keys)',
        params: ZoneParam,
        body: ZoneDnssecConfig,
        response: { 200: Status, ...errorResponses },
      },
    },
    async (req) => {
      const zone = zoneOf(req);
      const actor = actorOf(req);
      const body = req.body as Static<typeof ZoneDnssecConfig>;
      const errors = dnssecConfigErrors(body);
      if (errors.length > 0)
        throw new CatchmentError('VALIDATION_FAILED', `body${errors[0]!.path}: ${errors[0]!.message}`, { errors });
      await ctx.db.transaction(async (tx) => {
        const [z] = await tx.select().from(schema.zones).where(eq(schema.zones.name, zone)).for('update');
        if (!z) throw new CatchmentError('NOT_FOUND', `zone ${zone} does not exist`);
        await tx.update(schema.zones).set({ dnssec: body, updatedAt: new Date() }).where(eq(schema.zones.id, z.id));
        await recordAudit(tx as unknown as Db, {
          actor,
          action: 'update-dnssec',
          objectType: 'zone',
          objectId: zone,
          before: z.dnssec,
          after: body,
        });
      });
      await ctx.changed(actor);
      return dnssecStatus(ctx.db, zone);
    },
  );
  app.post(
    '/v1/zones/:zone/dnssec/rollovers',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['dnssec'],
        summary: 'Start a key rollover: zsk (pre-publish) or ksk (double signature; for a CSK zone, the CSK)',
        params: ZoneParam,
        body: StartBody,
        response: { 201: Status, ...errorResponses },
      },
    },
    async (req, reply) => {
      const zone = zoneOf(req);
      const actor = actorOf(req);
      const body = req.body as Static<typeof StartBody>;
      await startRollover(ctx.db, zone, body.kind, {
        kek: loadKek(),
        actor,
        ...(body.reason ? { reason: body.reason } : {}),
      });
      await ctx.changed(actor);
      return reply.code(201).send(await dnssecStatus(ctx.db, zone));
    },
  );
  app.post(
    '/v1/zones/:zone/dnssec/rollovers/:id/advance',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['dnssec'],
        summary:
          "Take a rollover's next step; refused (ROLLOVER_WAITING) before its waiting time is over unless forced",
        params: RolloverParam,
        body: AdvanceBody,
        response: { 200: Status, ...errorResponses },
      },
    },
    async (req) => {
      const zone = zoneOf(req);
      const actor = actorOf(req);
      const { id } = req.params as { id: number };
      const body = (req.body ?? {}) as Static<typeof AdvanceBody>;
      await advanceRollover(ctx.db, zone, Number(id), {
        actor,
        force: body.force ?? false,
        ...(body.reason ? { reason: body.reason } : {}),
      });
      await ctx.changed(actor);
      return dnssecStatus(ctx.db, zone);
    },
  );
}
