import { CatchmentError } from '@catchment/core';
import { resultJson } from '@catchment/sim';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { OPERATE } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { errorResponses } from '../schemas.ts';
import { checkLimits } from '../simulate/limits.ts';
import { prepare } from '../simulate/scenario.ts';

const Body = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
  maxProperties: 100,
  description:
    'a scenario document (the schema of `catchment simulate <scenario.yaml>`, packages/sim scenario.ts, as JSON, ' +
    'without `config`: it runs on this installation\'s configuration), or `{ "fromNow": { "playbook", "edge", "duration" } }`: ' +
    'the playbook on the edge from the present (loads, announcements, actions in force), default duration 1h',
});

const Result = Type.Object(
  {
    scenario: Type.Unknown({ description: 'its size: blocks, resolvers, cache entries, duration, service' }),
    strategies: Type.Array(Type.Unknown(), { description: 'the comparison table, one row per strategy' }),
    runs: Type.Array(Type.Unknown(), { description: "each strategy's steps, decisions and per-edge results" }),
    fromNow: Type.Optional(
      Type.Object({ playbook: Type.String(), edge: Type.String(), at: Type.String({ format: 'date-time' }) }),
    ),
  },
  { description: 'the JSON of `catchment simulate --json`' },
);

/**
 * POST /v1/simulate: a scenario through the simulator that `catchment start` injects (the real
 * controller; apps never import apps). One at a time per instance, bounded in size.
 */
export function simulateRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post(
    '/v1/simulate',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['simulate'],
        operationId: 'simulate',
        summary: 'What-if: run a scenario (or a playbook from the present) through the real controller',
        description:
          'Compares strategies second by second, every decision by the compiler, the DNS tables and the controller. ' +
          'One simulation at a time per API instance (429 SIMULATION_BUSY with Retry-After); larger scenarios than ' +
          'the instance allows get 413 SIMULATION_TOO_LARGE; an invalid one 422 SCENARIO_INVALID with every error; ' +
          'an API started without the simulator answers 503 SIMULATE_UNAVAILABLE.',
        querystring: Type.Object(
          { series: Type.Optional(Type.Boolean({ description: 'include every edge load per second' })) },
          { additionalProperties: false },
        ),
        body: Body,
        response: { 200: Result, ...errorResponses },
      },
    },
    async (req) => {
      const series = (req.query as { series?: boolean }).series === true;
      // Checked first: a bad or too large scenario is told so, with a simulator or without, busy or not.
      const prepared = await prepare(ctx.db, req.body, new Date());
      checkLimits(prepared.model, ctx.simulateLimits);
      const run = ctx.simulate;
      if (!run)
        throw new CatchmentError(
          'SIMULATE_UNAVAILABLE',
          'this API runs without the simulator (`catchment start` provides it); run `catchment simulate <file>` locally',
        );
      const result = await ctx.simulations.run(() => run(prepared.model, { config: prepared.config }));
      return { ...resultJson(result, { series }), ...(prepared.fromNow ? { fromNow: prepared.fromNow } : {}) };
    },
  );
}
