import { CatchmentError, Snapshot } from '@catchment/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { SNAPSHOT_READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { errorResponses } from '../schemas.ts';

/** Longest long-poll a consumer may ask for; it asks again after a 304. */
const MAX_WAIT_SECONDS = 300;

const etag = (version: number) => `"${version}"`;

function versionOfEtag(header: string | undefined): number | undefined {
  const m = header ? /^(?:W\/)?"(\d+)"$/.exec(header.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

function sendSnapshot(ctx: ApiContext, reply: FastifyReply, snap: Snapshot) {
  // Pre-serialised: the body can be large and is identical for every consumer.
  return reply.header('etag', etag(snap.version)).type('application/json').send(ctx.hub.serialised(snap));
}

/**
 * Snapshot distribution (conventions.md): consumers fetch by version with long-poll,
 * ETag "<version>", 304 when nothing newer was published within `wait` seconds.
 */
export function snapshotRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/snapshot',
    {
      config: { access: SNAPSHOT_READ },
      schema: {
        tags: ['snapshots'],
        summary: 'The latest snapshot; with since (or If-None-Match) and wait, long-polls for a newer one',
        querystring: Type.Object(
          {
            since: Type.Optional(Type.Integer({ minimum: 0, description: 'version the consumer has' })),
            wait: Type.Optional(
              Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS, description: 'seconds to wait for a newer one' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Snapshot, 304: Type.Null({ description: 'nothing newer than since' }), ...errorResponses },
      },
    },
    async (req: FastifyRequest, reply) => {
      const q = req.query as { since?: number; wait?: number };
      const since = q.since ?? versionOfEtag(req.headers['if-none-match']);
      if (since === undefined) {
        const latest = await ctx.hub.latest();
        if (latest) return sendSnapshot(ctx, reply, latest);
        if (!q.wait) throw new CatchmentError('NO_SNAPSHOT', 'no snapshot has been published yet');
      }
      const abort = new AbortController();
      reply.raw.once('close', () => abort.abort());
      const snap = await ctx.hub.waitNewer(since ?? 0, (q.wait ?? 0) * 1000, abort.signal);
      if (snap) return sendSnapshot(ctx, reply, snap);
      if (since === undefined) throw new CatchmentError('NO_SNAPSHOT', 'no snapshot has been published yet');
      return reply.code(304).header('etag', etag(since)).send();
    },
  );

  app.get(
    '/v1/snapshot/:version',
    {
      config: { access: SNAPSHOT_READ },
      schema: {
        tags: ['snapshots'],
        summary: 'One published snapshot version',
        params: Type.Object({ version: Type.Integer({ minimum: 1 }) }),
        response: { 200: Snapshot, 304: Type.Null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const { version } = req.params as { version: number };
      const snap = await ctx.hub.byVersion(version);
      if (!snap) throw new CatchmentError('NOT_FOUND', `snapshot version ${version} does not exist`);
      if (versionOfEtag(req.headers['if-none-match']) === version) return reply.code(304).send();
      return sendSnapshot(ctx, reply, snap);
    },
  );
}
