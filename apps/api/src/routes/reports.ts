import { CatchmentError } from '@catchment/core';
import { type Db, recordEdgeLoad, schema } from '@catchment/db';
import { and, asc, eq, gt } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { READ, REPORT } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { decodeTextCursor } from '../pagination.ts';
import { fieldProblem } from '../problem.ts';
import { errorResponses, FreeForm, freeFormProblem, Timestamp } from '../schemas.ts';

const CONSUMER_NAME = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';
const ConsumerName = Type.String({ pattern: CONSUMER_NAME });

export const Report = Type.Object(
  {
    consumer: ConsumerName,
    kind: Type.Union([Type.Literal('dns'), Type.Literal('edge')]),
    snapshotVersion: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    healthy: Type.Boolean(),
    /**
     * Free-form load. Edge agents: a number `rps` feeds the edge's load (utilisation) in
     * the next snapshot. DNS servers: packages/core DnsLoadReport (answers per client block
     * and edge), which the controller's planner reads as its traffic model.
     */
    load: Type.Optional(FreeForm()),
    details: Type.Optional(FreeForm()),
    /** The edge an edge agent reports for; defaults to `consumer`. */
    edge: Type.Optional(Type.String({ maxLength: 63 })),
  },
  { additionalProperties: false },
);

export const Consumer = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  /** The edge an edge agent reports for (null for DNS servers). */
  edge: Type.Union([Type.String(), Type.Null()]),
  snapshotVersion: Type.Union([Type.Integer(), Type.Null()]),
  /** Versions behind the latest published snapshot (null when unknown). */
  lag: Type.Union([Type.Integer(), Type.Null()]),
  healthy: Type.Boolean(),
  load: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  reportedAt: Timestamp,
  /** Seconds since the report (the agent's observation is that old). */
  ageSeconds: Type.Number({ minimum: 0 }),
});

export function reportRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post(
    '/v1/reports',
    {
      config: { access: REPORT },
      schema: {
        tags: ['snapshots'],
        summary: 'State report of a DNS server or edge agent (snapshot version, health, load)',
        body: Report,
        response: {
          202: Type.Object({ accepted: Type.Boolean(), latestVersion: Type.Union([Type.Integer(), Type.Null()]) }),
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const r = req.body as Static<typeof Report>;
      const tooBig = (['load', 'details'] as const)
        .map((field) => ({ path: `/${field}`, message: freeFormProblem(r[field]) }))
        .filter((e): e is { path: string; message: string } => e.message !== undefined);
      if (tooBig.length > 0) throw fieldProblem(tooBig.map((e) => ({ ...e, code: 'VALIDATION_FAILED' as const })));
      const scope = req.principal?.scope;
      if (req.principal?.role === 'agent' && scope) {
        if (scope !== r.consumer) throw new CatchmentError('FORBIDDEN', `this token may only report for "${scope}"`);
        // An agent reports the load of its own edge: consumer `edge:<name>` (or `<name>`).
        if (r.edge !== undefined && r.edge !== r.consumer.replace(/^edge:/, ''))
          throw new CatchmentError('FORBIDDEN', `this token may only report for edge "${scope.replace(/^edge:/, '')}"`);
      }
      const now = new Date();
      const row = {
        kind: r.kind,
        // An agent reports for its own edge: `edge`, else the consumer name (`edge:<name>` or `<name>`).
        edge: r.kind === 'edge' ? (r.edge ?? r.consumer.replace(/^edge:/, '')) : null,
        snapshotVersion: r.snapshotVersion,
        healthy: r.healthy,
        load: r.load ?? null,
        details: r.details ?? null,
        reportedAt: now,
      };
      let loadStored = false;
      await ctx.db.transaction(async (tx) => {
        await tx
          .insert(schema.consumers)
          .values({ name: r.consumer, ...row })
          .onConflictDoUpdate({ target: schema.consumers.name, set: row });
        const rps = r.load?.rps;
        if (r.kind === 'edge' && typeof rps === 'number' && rps >= 0) {
          const name = row.edge ?? r.consumer;
          const [edge] = await tx.select({ id: schema.edges.id }).from(schema.edges).where(eq(schema.edges.name, name));
          if (!edge)
            throw fieldProblem([
              {
                path: r.edge === undefined ? '/consumer' : '/edge',
                message: `unknown edge "${name}"`,
                code: 'REFERENCE_UNKNOWN',
              },
            ]);
          await tx
            .insert(schema.edgeLoads)
            .values({ edgeId: edge.id, rps, reportedAt: now })
            .onConflictDoUpdate({ target: schema.edgeLoads.edgeId, set: { rps, reportedAt: now } });
          await recordEdgeLoad(tx as unknown as Db, edge.id, rps, now);
          loadStored = true;
        }
      });
      // DNS follows load without waiting for another change (rate-bounded, load-publication.ts).
      if (loadStored) ctx.loads?.reported();
      const latest = ctx.hub.latestKnown() ?? (await ctx.hub.latest());
      return reply.code(202).send({ accepted: true, latestVersion: latest?.version ?? null });
    },
  );

  app.get(
    '/v1/consumers',
    {
      config: { access: READ },
      schema: {
        tags: ['snapshots'],
        summary: 'Which DNS servers and edge agents run which snapshot version',
        querystring: Type.Object(
          {
            kind: Type.Optional(Type.Union([Type.Literal('dns'), Type.Literal('edge')])),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            latestVersion: Type.Union([Type.Integer(), Type.Null()]),
            items: Type.Array(Consumer),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const q = req.query as { kind?: string; limit?: number; cursor?: string };
      const limit = q.limit ?? 100;
      // Consumers are keyed by name: the cursor is the last name returned.
      const after = decodeTextCursor(q.cursor, new RegExp(CONSUMER_NAME));
      const rows = await ctx.db
        .select()
        .from(schema.consumers)
        .where(and(gt(schema.consumers.name, after), q.kind ? eq(schema.consumers.kind, q.kind) : undefined))
        .orderBy(asc(schema.consumers.name))
        .limit(limit + 1);
      const latest = (await ctx.hub.latest())?.version ?? null;
      const now = Date.now();
      const page = rows.slice(0, limit);
      const last = rows.length > limit ? rows[limit - 1] : undefined;
      return {
        latestVersion: latest,
        items: page.map((r) => ({
          name: r.name,
          kind: r.kind,
          edge: r.edge,
          snapshotVersion: r.snapshotVersion,
          lag: latest !== null && r.snapshotVersion !== null ? Math.max(0, latest - r.snapshotVersion) : null,
          healthy: r.healthy,
          load: (r.load as Record<string, unknown> | null) ?? null,
          details: (r.details as Record<string, unknown> | null) ?? null,
          reportedAt: r.reportedAt.toISOString(),
          ageSeconds: Math.max(0, (now - r.reportedAt.getTime()) / 1000),
        })),
        nextCursor: last ? Buffer.from(last.name).toString('base64url') : null,
      };
    },
  );
}
