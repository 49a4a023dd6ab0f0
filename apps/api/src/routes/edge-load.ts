import { CatchmentError, durationProblem, parseDuration } from '@catchment/core';
import { edgeLoadSeries, LOAD_HISTORY_RETENTION_MS, schema } from '@catchment/db';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { errorResponses, Timestamp } from '../schemas.ts';

/** A duration of the query, or INVALID_QUERY naming the parameter. */
function durationMs(text: string, path: string): number {
  const problem = durationProblem(text);
  if (problem)
    throw new CatchmentError('INVALID_QUERY', `${path} "${text}": ${problem}`, {
      errors: [{ path, message: problem }],
    });
  return parseDuration(text);
}

const DurationText = Type.String({ pattern: '^[0-9]{1,6}(s|m|h|d)$', maxLength: 8 });

/** GET /v1/edges/{name}/load: the edge's load as its agent reported it, over the last hours. */
export function edgeLoadRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/edges/:name/load',
    {
      config: { access: READ },
      schema: {
        tags: ['edges'],
        summary: "An edge's reported load over time (one-minute history, kept 24 h), averaged per step",
        params: Type.Object({ name: Type.String({ maxLength: 63 }) }),
        querystring: Type.Object(
          {
            since: Type.Optional(
              Type.Union([Timestamp, DurationText], { description: 'a time, or a duration back from now (6h)' }),
            ),
            step: Type.Optional(
              Type.String({
                pattern: '^[0-9]{1,6}(s|m|h|d)$',
                maxLength: 8,
                description: 'a whole number of minutes, at least 1m (1m)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            edge: Type.String(),
            capacityRps: Type.Number(),
            stepSeconds: Type.Integer(),
            since: Timestamp,
            points: Type.Array(
              Type.Object({ at: Timestamp, rps: Type.Number(), maxRps: Type.Number(), samples: Type.Integer() }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const { name } = req.params as { name: string };
      const q = req.query as { since?: string; step?: string };
      const now = Date.now();
      const sinceMs =
        q.since === undefined
          ? now - 6 * 3600_000
          : /^\d+[smhd]$/.test(q.since)
            ? now - durationMs(q.since, 'since')
            : Date.parse(q.since);
      if (!Number.isFinite(sinceMs))
        throw new CatchmentError('INVALID_QUERY', `since "${q.since}" is neither a time nor a duration`);
      const stepMs = q.step === undefined ? 60_000 : durationMs(q.step, 'step');
      if (stepMs < 60_000 || stepMs % 60_000 !== 0 || stepMs > LOAD_HISTORY_RETENTION_MS)
        throw new CatchmentError('INVALID_QUERY', `step "${q.step}" must be a whole number of minutes from 1m to 24h`, {
          errors: [{ path: 'step', message: 'a whole number of minutes, 1m to 24h' }],
        });
      const [edge] = await ctx.db
        .select({ id: schema.edges.id, capacity: schema.edges.capacityRps })
        .from(schema.edges)
        .where(eq(schema.edges.name, name));
      if (!edge) throw new CatchmentError('NOT_FOUND', `edge "${name}" does not exist`);
      // Never before the retention: the answer says what it covers.
      const since = new Date(Math.max(sinceMs, now - LOAD_HISTORY_RETENTION_MS));
      const points = await edgeLoadSeries(ctx.db, edge.id, since, stepMs);
      return {
        edge: name,
        capacityRps: edge.capacity,
        stepSeconds: stepMs / 1000,
        since: since.toISOString(),
        points: points.map((p) => ({ ...p, at: p.at.toISOString() })),
      };
    },
  );
}
