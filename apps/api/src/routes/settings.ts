import { DEFAULT_SETTINGS, domainErrors, SettingsConfig, SnapshotSettings } from '@catchment/core';
import { exportConfig, recordAudit, schema } from '@catchment/db';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { ADMIN, actorOf, READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { checkIfMatch, currentEtag } from '../etag.ts';
import { fieldProblem } from '../problem.ts';
import { sendWithEtag } from '../resources/crud.ts';
import { errorResponses } from '../schemas.ts';

/** The safety settings (K, M, X %, announce lengths...): one document, admin writes. */
export function settingsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const Representation = Type.Object({ configured: SettingsConfig, effective: SnapshotSettings });
  const read = async (db = ctx.db) => {
    const [row] = await db.select().from(schema.settings);
    const configured = (row?.values ?? {}) as Static<typeof SettingsConfig>;
    return { configured, effective: { ...DEFAULT_SETTINGS, ...configured } };
  };
  app.get(
    '/v1/settings',
    {
      config: { access: READ },
      schema: {
        tags: ['settings'],
        summary: 'Safety settings: as configured and with defaults applied',
        response: { 200: Representation, 304: Type.Null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const now = await read();
      return sendWithEtag(req, reply, now, await currentEtag(ctx.db, 'settings', 'settings', now));
    },
  );
  app.put(
    '/v1/settings',
    {
      config: { access: ADMIN, ifMatch: true },
      schema: {
        tags: ['settings'],
        summary: 'Replace the safety settings (If-Match supported)',
        body: SettingsConfig,
        response: { 200: Representation, ...errorResponses },
      },
    },
    async (req, reply) => {
      const body = req.body as Static<typeof SettingsConfig>;
      const actor = actorOf(req);
      const after = await ctx.db.transaction(async (tx) => {
        await tx.select().from(schema.settings).for('update');
        const before = await read(tx);
        await checkIfMatch(req, tx, 'settings', 'settings', before);
        // The new settings must hold for the whole configuration (e.g. a shorter
        // announceable length than an existing prefix is refused, with that prefix's path).
        const cfg = await exportConfig(tx);
        const errors = domainErrors({ ...cfg, settings: body });
        if (errors.length > 0) throw fieldProblem(errors);
        await tx
          .insert(schema.settings)
          .values({ id: 1, values: body })
          .onConflictDoUpdate({ target: schema.settings.id, set: { values: body } });
        const now = await read(tx);
        await recordAudit(tx, {
          actor,
          action: 'update',
          objectType: 'settings',
          objectId: 'settings',
          before,
          after: now,
        });
        return { now, etag: await currentEtag(tx, 'settings', 'settings', now) };
      });
      await ctx.changed(actor);
      return sendWithEtag(req, reply, after.now, after.etag);
    },
  );
}
