import { CatchmentError, Snapshot } from '@catchment/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { SNAPSHOT_READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import type { Consumer } from '../distribution-limit.ts';
import { errorResponses } from '../schemas.ts';

/** Longest long-poll a consumer may ask for; it asks again after a 304. */
const MAX_WAIT_SECONDS = 300;

const etag = (version: number) => `"${version}"`;

function versionOfEtag(header: string | undefined): number | undefined {
  const m = header ? /^(?:W\/)?"(\d+)"$/.exec(header.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

function sendSnapshot(ctx: ApiContext, reply: FastifyReply, snap: Snapshot, consumer?: Consumer) {
  if (consumer) consumer.has = Math.max(consumer.has, snap.version);
  // Pre-serialised: the body can be large and is identical for every consumer.
  return reply.header('etag', etag(snap.version)).type('application/json').send(ctx.hub.serialised(snap));
}

/** A consumer is a token at a client address: DNS servers sharing one token each get their own budget. */
function consumerOf(ctx: ApiContext, req: FastifyRequest): Consumer {
  return ctx.distribution.consumer(`${req.principal?.tokenId ?? 'anonymous'}|${req.ip}`);
}

function limited(ctx: ApiContext, reply: FastifyReply, consumer: Consumer): CatchmentError {
  const seconds = Math.max(1, Math.ceil(ctx.distribution.retryAfterMs(consumer) / 1000));
  reply.header('retry-after', String(seconds));
  ctx.metrics.distributionLimited.inc({ outcome: 'refused' });
  return new CatchmentError(
    'RATE_LIMITED',
    `snapshot distribution limit of this consumer exceeded while one request is already held; retry in ${seconds} s`,
  );
}

/**
 * Snapshot distribution (conventions.md): consumers fetch by version with long-poll,
 * ETag "<version>", 304 when nothing newer was published within `wait` seconds.
 */
export function snapshotRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/snapshot',
    {
      // Distribution has its own per-consumer limit (below), never the operator limit.
      config: { access: SNAPSHOT_READ, rateLimit: false },
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
      const consumer = consumerOf(ctx, req);
      if (since !== undefined) consumer.has = Math.max(consumer.has, since);
      if (!ctx.distribution.take(consumer)) return overLimit(ctx, req, reply, consumer, since, q.wait ?? 0);
      if (since === undefined) {
        const latest = await ctx.hub.latest();
        if (latest) return sendSnapshot(ctx, reply, latest, consumer);
        if (!q.wait) throw new CatchmentError('NO_SNAPSHOT', 'no snapshot has been published yet');
      }
      const abort = new AbortController();
      reply.raw.once('close', () => abort.abort());
      const snap = await ctx.hub.waitNewer(since ?? 0, (q.wait ?? 0) * 1000, abort.signal);
      if (snap) return sendSnapshot(ctx, reply, snap, consumer);
      if (since === undefined) throw new CatchmentError('NO_SNAPSHOT', 'no snapshot has been published yet');
      return reply.code(304).header('etag', etag(since)).send();
    },
  );

  app.get(
    '/v1/snapshot/:version',
    {
      config: { access: SNAPSHOT_READ, rateLimit: false },
      schema: {
        tags: ['snapshots'],
        summary: 'One published snapshot version',
        params: Type.Object({ version: Type.Integer({ minimum: 1 }) }),
        response: { 200: Snapshot, 304: Type.Null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const { version } = req.params as { version: number };
      const consumer = consumerOf(ctx, req);
      if (!ctx.distribution.take(consumer)) throw limited(ctx, reply, consumer);
      const snap = await ctx.hub.byVersion(version);
      if (!snap) throw new CatchmentError('NOT_FOUND', `snapshot version ${version} does not exist`);
      if (versionOfEtag(req.headers['if-none-match']) === version) return reply.code(304).send();
      return sendSnapshot(ctx, reply, snap);
    },
  );
}

/**
 * Over its limit, a consumer still gets what it lacks: a version newer than any it has been
 * sent is served at once; otherwise one request is held like a long-poll until a newer
 * version is published or the bucket refills (whichever first), and any further request
 * meanwhile gets 429 with Retry-After. So a limit costs a consumer requests, never freshness.
 */
async function overLimit(
  ctx: ApiContext,
  req: FastifyRequest,
  reply: FastifyReply,
  consumer: Consumer,
  since: number | undefined,
  waitSeconds: number,
) {
  const latest = ctx.hub.latestKnown();
  if (latest && latest.version > consumer.has) {
    ctx.metrics.distributionLimited.inc({ outcome: 'served' });
    return sendSnapshot(ctx, reply, latest, consumer);
  }
  if (consumer.held > 0) throw limited(ctx, reply, consumer);
  ctx.metrics.distributionLimited.inc({ outcome: 'held' });
  consumer.held++;
  const abort = new AbortController();
  reply.raw.once('close', () => abort.abort());
  const holdMs = Math.min(
    MAX_WAIT_SECONDS * 1000,
    Math.max(waitSeconds * 1000, ctx.distribution.retryAfterMs(consumer)),
  );
  let snap: Snapshot | undefined;
  try {
    snap = await ctx.hub.waitNewer(consumer.has, holdMs, abort.signal);
  } finally {
    consumer.held--;
  }
  if (snap) return sendSnapshot(ctx, reply, snap, consumer);
  const now = ctx.hub.latestKnown();
  if (since === undefined && now) return sendSnapshot(ctx, reply, now, consumer);
  if (since === undefined) throw new CatchmentError('NO_SNAPSHOT', 'no snapshot has been published yet');
  req.log.debug({ since }, 'held snapshot poll ended without a newer version');
  return reply.code(304).header('etag', etag(since)).send();
}
