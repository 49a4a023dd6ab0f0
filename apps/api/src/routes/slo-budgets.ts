import { CatchmentError, Name } from '@catchment/core';
import { schema } from '@catchment/db';
import { asc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { errorResponses, Timestamp } from '../schemas.ts';

const NumberOrNull = Type.Union([Type.Number(), Type.Null()]);

const EdgeBudget = Type.Object(
  {
    edge: Type.String(),
    budgetRemaining: NumberOrNull,
    windows: Type.Record(Type.String(), Type.Object({ ratio: NumberOrNull, burnRate: NumberOrNull })),
    firing: Type.Array(Type.Object({}, { additionalProperties: true })),
    evaluatedAt: Timestamp,
  },
  { additionalProperties: false },
);

const Budget = Type.Object(
  {
    slo: Type.String(),
    objective: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
    edges: Type.Array(EdgeBudget),
  },
  { additionalProperties: false },
);

/**
 * An SLO's error budget per edge, as the leading controller last evaluated it from
 * Prometheus (apps/controller/src/slo-evaluator.ts): budget left, bad ratio and burn rate
 * per window, and the burn-rate pairs that fire.
 */
export function sloBudgetRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/slos/:name/budget',
    {
      config: { access: READ },
      schema: {
        tags: ['slos'],
        summary: "An SLO's error budget and burn rates per edge, as last evaluated",
        params: Type.Object({ name: Name }),
        response: { 200: Budget, ...errorResponses },
      },
    },
    async (req) => {
      const name = (req.params as { name: string }).name;
      const [slo] = await ctx.db.select().from(schema.slos).where(eq(schema.slos.name, name));
      if (!slo) throw new CatchmentError('NOT_FOUND', `slo "${name}" does not exist`);
      const rows = await ctx.db
        .select({ b: schema.sloBudgets, edge: schema.edges.name })
        .from(schema.sloBudgets)
        .innerJoin(schema.edges, eq(schema.edges.id, schema.sloBudgets.edgeId))
        .where(eq(schema.sloBudgets.sloId, slo.id))
        .orderBy(asc(schema.edges.name));
      return {
        slo: slo.name,
        objective: (slo.objective as Record<string, unknown> | null) ?? null,
        edges: rows.map(({ b, edge }) => ({
          edge,
          budgetRemaining: b.budgetRemaining,
          windows: b.windows as Record<string, { ratio: number | null; burnRate: number | null }>,
          firing: b.firing as Record<string, unknown>[],
          evaluatedAt: b.evaluatedAt.toISOString(),
        })),
      };
    },
  );
}
