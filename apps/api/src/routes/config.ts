import { CatchmentError } from '@catchment/core';
import { exportConfig, recordAudit } from '@catchment/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { actorOf, OPERATE, READ } from '../auth.ts';
import { DEFAULT_MAX_CHANGE_PERCENT, type Plan, planConfig } from '../config/plan.ts';
import type { ApiContext } from '../context.ts';
import { errorResponses, Reason } from '../schemas.ts';

const MaxChange = Type.Optional(
  Type.Number({
    minimum: 0,
    maximum: 100,
    description: `refuse (without force) plans updating or deleting more than this % of the objects (default ${DEFAULT_MAX_CHANGE_PERCENT})`,
  }),
);
const Document = Type.Unknown({ description: 'the configuration document (the YAML file as JSON)' });
const PlanBody = Type.Object({ config: Document, maxChangePercent: MaxChange }, { additionalProperties: false });
const ApplyBody = Type.Object(
  {
    config: Document,
    checksum: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'the checksum of the reviewed plan' }),
    reason: Type.Optional(Reason),
    force: Type.Optional(Type.Boolean({ description: 'apply although the guard or a safety rule refuses (audited)' })),
    maxChangePercent: MaxChange,
  },
  { additionalProperties: false },
);
const PlanResult = Type.Object({
  checksum: Type.String(),
  changes: Type.Array(Type.Unknown()),
  summary: Type.Object({ create: Type.Integer(), update: Type.Integer(), delete: Type.Integer() }),
  guard: Type.Unknown(),
  safety: Type.Unknown(),
  snapshotChanges: Type.Integer(),
  predictedLoads: Type.Array(Type.Unknown()),
});

/** A document that is not a mapping is refused with one line (an empty file, a scalar, a list). */
function documentOf(value: unknown): object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what =
      value === null || value === undefined ? 'empty' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    throw new CatchmentError(
      'CONFIG_INVALID',
      `the configuration is ${what}: expected a mapping of settings, zones, edges, transits, prefixes, policies, services, slos, playbooks`,
      { errors: [{ path: '', message: `expected a mapping (got ${what})` }] },
    );
  }
  return value;
}

/** Settings are admin-only elsewhere (PUT /v1/settings); the same holds here. */
function needAdminFor(req: FastifyRequest, plan: Plan) {
  if (plan.changes.some((c) => c.kind === 'settings') && req.principal?.role !== 'admin')
    throw new CatchmentError('FORBIDDEN', 'changing settings needs an admin token');
}

/**
 * Config as code: the plan (field-level diff, guard, safety verdict of the resulting
 * state, predicted loads) and its apply, which takes the plan's checksum back so that
 * what is applied is what was reviewed (PLAN_STALE otherwise).
 */
export function configRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/config',
    {
      config: { access: READ },
      schema: {
        tags: ['config'],
        summary: 'The whole configuration, in the format of a configuration file',
        response: { 200: Type.Record(Type.String(), Type.Unknown()), ...errorResponses },
      },
    },
    async () => exportConfig(ctx.db),
  );

  app.post(
    '/v1/config/plan',
    {
      config: { access: READ },
      schema: {
        tags: ['config'],
        summary: 'Plan a configuration document: what would change, field by field, and whether it is safe',
        body: PlanBody,
        response: { 200: PlanResult, ...errorResponses },
      },
    },
    async (req) => {
      const b = req.body as { config: unknown; maxChangePercent?: number };
      const { plan } = await planConfig(ctx, documentOf(b.config), {
        actor: actorOf(req),
        maxChangePercent: b.maxChangePercent,
      });
      return plan;
    },
  );

  app.post(
    '/v1/config/apply',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['config'],
        summary: 'Apply a configuration document whose plan was reviewed (its checksum)',
        body: ApplyBody,
        response: {
          200: Type.Object({
            applied: Type.Boolean(),
            forced: Type.Boolean(),
            plan: PlanResult,
            snapshotVersion: Type.Union([Type.Integer(), Type.Null()]),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const b = req.body as {
        config: unknown;
        checksum: string;
        reason?: string;
        force?: boolean;
        maxChangePercent?: number;
      };
      const actor = actorOf(req);
      const force = b.force ?? false;
      let forced = false;
      const { plan, committed } = await planConfig(ctx, documentOf(b.config), {
        actor,
        reason: b.reason,
        maxChangePercent: b.maxChangePercent,
        async commit(p, tx) {
          if (p.checksum !== b.checksum)
            throw new CatchmentError(
              'PLAN_STALE',
              'the configuration or the document changed since the plan was made; plan again and review it',
              { details: { checksum: p.checksum } },
            );
          needAdminFor(req, p);
          if (p.changes.length === 0) return false;
          const refusals = [...p.guard.refusals];
          if (p.safety.refusal) refusals.push(`safety rule "${p.safety.refusal.rule}": ${p.safety.refusal.reason}`);
          if (refusals.length > 0 && !force) {
            const guarded = p.guard.refusals.length > 0;
            throw new CatchmentError(
              guarded ? 'PLAN_GUARDED' : 'SAFETY_REFUSED',
              `${refusals.join('; ')} (force overrides; the override is audited)`,
              { details: { guard: p.guard, refusal: p.safety.refusal } },
            );
          }
          forced = refusals.length > 0;
          await recordAudit(tx, {
            actor,
            action: 'config.apply',
            objectType: 'config',
            objectId: p.checksum.slice(0, 16),
            reason: b.reason ?? 'configuration apply',
            forced,
            after: { summary: p.summary, ...(forced ? { refusals } : {}) },
          });
          return true;
        },
      });
      if (committed) await ctx.changed(actor);
      return { applied: committed, forced, plan, snapshotVersion: (await ctx.hub.latest())?.version ?? null };
    },
  );
}
