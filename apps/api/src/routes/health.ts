import { CatchmentError } from '@catchment/core';
import { migrationStatus, schema } from '@catchment/db';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { errorResponses } from '../schemas.ts';

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/healthz',
    {
      config: { access: 'public', rateLimit: false },
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process answers',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { access: 'public', rateLimit: false },
      schema: {
        tags: ['health'],
        summary: 'Readiness: the database answers and every migration is applied',
        security: [],
        response: {
          200: Type.Object({
            status: Type.Literal('ready'),
            database: Type.String(),
            migrations: Type.Object({ applied: Type.Integer(), available: Type.Integer() }),
          }),
          ...errorResponses,
        },
      },
    },
    async () => {
      try {
        await ctx.db.execute(sql`select 1`);
      } catch (cause) {
        throw new CatchmentError('DB_UNREACHABLE', `database unreachable: ${(cause as Error).message}`);
      }
      const migrations = await migrationStatus(ctx.db);
      if (migrations.applied < migrations.available)
        throw new CatchmentError(
          'NOT_MIGRATED',
          `${migrations.available - migrations.applied} migration(s) pending: run catchment migrate`,
          { details: migrations },
        );
      return { status: 'ready' as const, database: ctx.database.kind, migrations };
    },
  );

  app.get(
    '/metrics',
    {
      config: { access: READ, rateLimit: false },
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics',
        produces: ['text/plain'],
        response: { 200: { description: 'Prometheus text exposition format', type: 'string' }, ...errorResponses },
      },
    },
    async (_req, reply) => {
      // Lag is relative to the latest version, so it is computed at scrape time.
      const latest = await ctx.hub.latest();
      if (latest) ctx.metrics.snapshotVersion.set(latest.version);
      ctx.metrics.waiting.set(ctx.hub.waiting);
      ctx.metrics.consumerLag.reset();
      ctx.metrics.consumerVersion.reset();
      ctx.metrics.consumerHealthy.reset();
      ctx.metrics.consumerReported.reset();
      for (const c of await ctx.db.select().from(schema.consumers)) {
        const labels = { consumer: c.name, kind: c.kind };
        ctx.metrics.consumerHealthy.set(labels, c.healthy ? 1 : 0);
        ctx.metrics.consumerReported.set(labels, c.reportedAt.getTime() / 1000);
        if (c.snapshotVersion === null) continue;
        ctx.metrics.consumerVersion.set(labels, c.snapshotVersion);
        if (latest) ctx.metrics.consumerLag.set(labels, Math.max(0, latest.version - c.snapshotVersion));
      }
      reply.type(ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    },
  );
}
