import { CatchmentError } from '@catchment/core';
import { resultJson } from '@catchment/sim';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { OPERATE } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import type { SimulationOutcome } from '../metrics.ts';
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
          'an API started without the simulator answers 503 SIMULATE_UNAVAILABLE. The run is in a worker thread, stopped when ' +
          'the client closes the connection; past its time 504 SIMULATION_TIMEOUT, past its memory 413 ' +
          'SIMULATION_OUT_OF_MEMORY, a worker failure 500 SIMULATION_FAILED.',
        querystring: Type.Object(
          { series: Type.Optional(Type.Boolean({ description: 'include every edge load per second' })) },
          { additionalProperties: false },
        ),
        body: Body,
        response: { 200: Result, ...errorResponses },
      },
    },
    async (req, reply) => {
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
      const { model } = prepared;
      const result = await ctx.simulations.run(model.strategies.length, (progress) =>
        supervised(ctx, req, reply, (control) =>
          run(model, {
            config: prepared.config,
            ...control,
            onProgress: (p) => {
              progress(p);
              ctx.metrics.simulationStrategiesDone.set(p.done);
              req.log.info(
                { strategy: p.strategy, done: p.done, of: p.of, elapsedMs: p.elapsedMs },
                `simulation: ${p.strategy} done (${p.done} of ${p.of})`,
              );
            },
          }),
        ),
      );
      return { ...resultJson(result, { series }), ...(prepared.fromNow ? { fromNow: prepared.fromNow } : {}) };
    },
  );
}

/** Why a run was stopped early. */
class Stopped extends CatchmentError {}

/**
 * One run under the route's bounds: stopped (its worker terminated) when the client closes the
 * connection before the answer, when the API stops, or past the wall-clock limit; counted by
 * outcome and logged. Settles only once the run has (a worker's thread has exited).
 */
async function supervised<T>(
  ctx: ApiContext,
  req: FastifyRequest,
  reply: FastifyReply,
  work: (control: { signal: AbortSignal }) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  const started = performance.now();
  const limitS = ctx.simulateLimits.wallClockS;
  const onClose = () => {
    if (!reply.raw.writableEnded)
      abort.abort(new Stopped('SIMULATION_CANCELLED', 'the client closed the connection before the result'));
  };
  reply.raw.on('close', onClose);
  const stopping = () =>
    abort.abort(
      new Stopped('SIMULATION_CANCELLED', 'the API is stopping; run the simulation again on another instance'),
    );
  ctx.simulationStops.add(stopping);
  const timer = setTimeout(
    () =>
      abort.abort(
        new Stopped(
          'SIMULATION_TIMEOUT',
          `the simulation ran past the ${limitS} s this API allows it; simulate a shorter or smaller scenario, or run \`catchment simulate\` on a file`,
          { details: { wallClockS: limitS } },
        ),
      ),
    limitS * 1000,
  );
  ctx.metrics.simulationRunning.set(1);
  ctx.metrics.simulationStrategiesDone.set(0);
  req.log.info('simulation started');
  const outcome = (o: SimulationOutcome, err?: unknown) => {
    ctx.metrics.simulations.inc({ outcome: o });
    const ms = Math.round(performance.now() - started);
    const msg = err instanceof Error ? err.message : undefined;
    if (o === 'completed') req.log.info({ outcome: o, ms }, 'simulation completed');
    else if (o === 'cancelled') req.log.info({ outcome: o, ms, reason: msg }, `simulation cancelled: ${msg}`);
    else req.log.warn({ outcome: o, ms, err }, `simulation ${o === 'timeout' ? 'timed out' : 'failed'}: ${msg}`);
  };
  try {
    const result = await work({ signal: abort.signal });
    outcome('completed');
    return result;
  } catch (err) {
    const code = err instanceof CatchmentError ? err.code : undefined;
    outcome(code === 'SIMULATION_CANCELLED' ? 'cancelled' : code === 'SIMULATION_TIMEOUT' ? 'timeout' : 'failed', err);
    throw err;
  } finally {
    clearTimeout(timer);
    reply.raw.off('close', onClose);
    ctx.simulationStops.delete(stopping);
    ctx.metrics.simulationRunning.set(0);
    ctx.metrics.simulationStrategiesDone.set(0);
  }
}
