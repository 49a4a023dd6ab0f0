import { createHash } from 'node:crypto';
import {
  ACTION_KINDS,
  type ActionKind,
  ActionParams,
  actionActive,
  CatchmentError,
  canonicalJson,
  cidrProblem,
  communityProblem,
  Duration,
  durationProblem,
  EDGE_SCOPED_ACTIONS,
  MAX_DURATION_MS,
  MAX_DURATION_TEXT,
  parseCidr,
  parseDuration,
} from '@catchment/core';
import { actionActiveAt, type Db, schema } from '@catchment/db';
import { and, asc, eq, gt, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Static, type TSchema, Type } from 'typebox';
import { checkPin, type PinParams } from '../actions/pin.ts';
import { type ChangeOutcome, runChange } from '../actions/pipeline.ts';
import { actorOf, OPERATE, READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { decodeCursor, Page, PageQuery, pageOf } from '../pagination.ts';
import { fieldProblem } from '../problem.ts';
import { errorResponses, FreeForm, Reason, Timestamp } from '../schemas.ts';

const t = schema.actions;

export const ActionRecord = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  edge: Type.Union([Type.String(), Type.Null()]),
  prefix: Type.Union([Type.String(), Type.Null()]),
  params: Type.Record(Type.String(), Type.Unknown()),
  reason: Type.String(),
  actor: Type.String(),
  source: Type.String(),
  forced: Type.Boolean(),
  runId: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Timestamp,
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  revertedAt: Type.Union([Timestamp, Type.Null()]),
  revertedBy: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(),
});
type ActionRecord = Static<typeof ActionRecord>;

const Change = Type.Object({ path: Type.String(), before: Type.Unknown(), after: Type.Unknown() });
/** packages/safety's one refusal type, as the API and the controller's run history both show it. */
const RefusalSchema = Type.Object(
  {
    rule: Type.String({
      description: 'the safety rule (humans-win, blast-radius, capacity, route-budget, coverage, ...)',
    }),
    reason: Type.String(),
    details: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
/** One affected edge's load before and after the change (null: its load is unknown). */
const PredictedLoadSchema = Type.Object(
  {
    edge: Type.String(),
    capacityRps: Type.Number(),
    beforeRps: NullableNumber,
    afterRps: NullableNumber,
    beforeUtilisation: NullableNumber,
    afterUtilisation: NullableNumber,
  },
  { additionalProperties: false },
);
export const DryRunResult = Type.Object({
  dryRun: Type.Literal(true),
  /** Whether the change would alter the published snapshot at all. */
  wouldPublish: Type.Boolean(),
  diff: Type.Array(Change),
  /**
   * Per affected edge (the edge shed first, then each target), before and after: the
   * prediction the controller records for the same playbook step.
   */
  predictedLoads: Type.Array(PredictedLoadSchema),
  /** The safety rule that would refuse it (force: true would override; `no-op` is not forceable), or null. */
  refusal: Type.Union([RefusalSchema, Type.Null()]),
});
export const ActionResult = Type.Object({
  action: ActionRecord,
  snapshotVersion: Type.Union([Type.Integer(), Type.Null()]),
  diff: Type.Array(Change),
  forced: Type.Boolean(),
  refusal: Type.Union([RefusalSchema, Type.Null()]),
});
export const RevertResult = Type.Object({
  reverted: Type.Array(ActionRecord),
  snapshotVersion: Type.Union([Type.Integer(), Type.Null()]),
  diff: Type.Array(Change),
  forced: Type.Boolean(),
  refusal: Type.Union([RefusalSchema, Type.Null()]),
});

export const Common = {
  reason: Reason,
  expiresAt: Type.Optional(Timestamp),
  ttl: Type.Optional(Duration),
  force: Type.Optional(Type.Boolean({ description: 'override a safety refusal (audited)' })),
  dryRun: Type.Optional(
    Type.Boolean({ description: 'return the snapshot diff and the predicted load per affected edge, change nothing' }),
  ),
};
export const UndoBody = Type.Object(
  { reason: Reason, force: Common.force, dryRun: Common.dryRun },
  { additionalProperties: false },
);
export type CommonBody = { reason: string; expiresAt?: string; ttl?: string; force?: boolean; dryRun?: boolean };

function recordOf(
  r: typeof t.$inferSelect,
  edge: string | null,
  prefix: string | null,
  now = Date.now(),
): ActionRecord {
  return {
    id: r.id,
    kind: r.kind,
    edge,
    prefix,
    params: r.params as Record<string, unknown>,
    reason: r.reason,
    actor: r.actor,
    source: r.source,
    forced: r.forced,
    runId: r.runId,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt?.toISOString() ?? null,
    revertedAt: r.revertedAt?.toISOString() ?? null,
    revertedBy: r.revertedBy,
    active: actionActive(r, new Date(now)),
  };
}

export async function loadActions(db: Db, where: SQL | undefined, limit = 1000): Promise<ActionRecord[]> {
  const rows = await db
    .select({ a: t, edge: schema.edges.name, prefix: schema.prefixes.cidr })
    .from(t)
    .leftJoin(schema.edges, eq(schema.edges.id, t.edgeId))
    .leftJoin(schema.prefixes, eq(schema.prefixes.id, t.prefixId))
    .where(where)
    .orderBy(asc(t.id))
    .limit(limit);
  return rows.map((r) => recordOf(r.a, r.edge, r.prefix));
}

export const activeNow = () => actionActiveAt(new Date());

function expiryOf(b: CommonBody): Date | null {
  if (b.expiresAt && b.ttl)
    throw fieldProblem([{ path: '/ttl', message: 'give expiresAt or ttl, not both', code: 'VALIDATION_FAILED' }]);
  const path = b.ttl ? '/ttl' : '/expiresAt';
  const problem = b.ttl ? durationProblem(b.ttl) : undefined;
  if (problem) throw fieldProblem([{ path, message: problem, code: 'VALIDATION_FAILED' }]);
  const now = Date.now();
  const at = b.expiresAt ? new Date(b.expiresAt) : b.ttl ? new Date(now + parseDuration(b.ttl)) : null;
  if (at && at.getTime() <= now)
    throw fieldProblem([{ path, message: 'expiry is in the past', code: 'VALIDATION_FAILED' }]);
  // The same bound as a ttl, so an expiry is never further away than the longest duration.
  if (at && at.getTime() > now + MAX_DURATION_MS)
    throw fieldProblem([
      {
        path,
        message: `expiry is further away than the longest duration, ${MAX_DURATION_TEXT}`,
        code: 'VALIDATION_FAILED',
      },
    ]);
  return at;
}

export interface NewAction {
  kind: ActionKind;
  edge: string | null;
  params: Record<string, unknown>;
  revert?: boolean;
}

/** Resolves names to ids and checks what the schemas cannot: targets exist, syntax of communities and CIDRs. */
async function resolveAction(db: Db, a: NewAction): Promise<{ edgeId: number | null; prefixId: number | null }> {
  const edges = await db.select({ id: schema.edges.id, name: schema.edges.name }).from(schema.edges);
  const edgeId = (name: string) => edges.find((e) => e.name === name)?.id;
  let id: number | null = null;
  if (a.edge !== null) {
    id = edgeId(a.edge) ?? null;
    if (id === null) throw new CatchmentError('NOT_FOUND', `edge "${a.edge}" does not exist`);
  } else if (EDGE_SCOPED_ACTIONS.has(a.kind)) {
    throw fieldProblem([{ path: '/edge', message: `${a.kind} needs an edge`, code: 'VALIDATION_FAILED' }]);
  }
  if (a.kind === 'pin' && a.edge !== null && id !== null) await checkPin(db, a.edge, id, a.params as PinParams);
  const targets = (a.params.targets as string[] | undefined) ?? [];
  const unknown = targets.map((n, i) => ({ n, i })).filter(({ n }) => edgeId(n) === undefined);
  if (unknown.length > 0)
    throw fieldProblem(
      unknown.map(({ n, i }) => ({
        path: `/params/targets/${i}`,
        message: `unknown edge "${n}"`,
        code: 'REFERENCE_UNKNOWN',
      })),
    );
  if (targets.includes(a.edge ?? ''))
    throw fieldProblem([
      { path: '/params/targets', message: 'an edge cannot be its own target', code: 'VALIDATION_FAILED' },
    ]);
  const communities = (a.params.communities as string[] | undefined) ?? [];
  const bad = communities.map((c, i) => ({ i, p: communityProblem(c) })).filter((x) => x.p);
  if (bad.length > 0)
    throw fieldProblem(
      bad.map(({ i, p }) => ({ path: `/params/communities/${i}`, message: p ?? '', code: 'COMMUNITY_INVALID' })),
    );
  const transit = a.params.transit as string | undefined;
  if (transit !== undefined) {
    const [tr] = await db.select().from(schema.transits).where(eq(schema.transits.name, transit));
    if (!tr)
      throw fieldProblem([
        { path: '/params/transit', message: `unknown transit "${transit}"`, code: 'REFERENCE_UNKNOWN' },
      ]);
  }
  let prefixId: number | null = null;
  const prefix = a.params.prefix as string | undefined;
  if (prefix !== undefined) {
    const problem = cidrProblem(prefix);
    if (problem) throw fieldProblem([{ path: '/params/prefix', message: problem, code: 'CIDR_INVALID' }]);
    const [p] = await db
      .select()
      .from(schema.prefixes)
      .where(eq(schema.prefixes.cidr, parseCidr(prefix).text));
    if (!p) throw new CatchmentError('NOT_FOUND', `prefix ${prefix} does not exist`);
    if (a.kind === 'withdraw-unicast' && (p.kind !== 'unicast' || p.edgeId !== id))
      throw fieldProblem([
        {
          path: '/params/prefix',
          message: `${prefix} is not a unicast prefix of edge "${a.edge}"`,
          code: 'VALIDATION_FAILED',
        },
      ]);
    prefixId = p.id;
    a.params.prefix = p.cidr;
  }
  return { edgeId: id, prefixId };
}

function requestDigest(a: NewAction, reason: string): string {
  return createHash('sha256')
    .update(canonicalJson({ ...a, reason }))
    .digest('base64url')
    .slice(0, 22);
}

function sendOutcome(
  reply: FastifyReply,
  o: ChangeOutcome<ActionRecord | ActionRecord[]>,
  revert: boolean,
  firstResponse?: Record<string, unknown>,
) {
  if (o.kind === 'dry-run') {
    return reply.code(200).send({
      dryRun: true,
      wouldPublish: o.diff.length > 0,
      diff: o.diff,
      predictedLoads: o.predictedLoads,
      refusal: o.refusal,
    });
  }
  if (o.kind === 'replayed') {
    reply.header('idempotent-replayed', 'true');
    // The first response verbatim; its version is filled in once it was published.
    if (firstResponse)
      return reply.code(201).send({ ...firstResponse, snapshotVersion: firstResponse.snapshotVersion ?? o.version });
    return reply.code(revert ? 200 : 201).send({
      ...(revert ? { reverted: o.result } : { action: o.result }),
      snapshotVersion: o.version,
      diff: [],
      forced: false,
      refusal: null,
    });
  }
  return reply.code(revert ? 200 : 201).send({
    ...(revert ? { reverted: o.result } : { action: o.result }),
    snapshotVersion: o.version,
    diff: o.diff,
    forced: o.forced,
    refusal: o.refusal,
  });
}

/** Creates an action (drain, shift, withdraw...) through the safety pipeline, idempotently. */
export async function createAction(
  ctx: ApiContext,
  req: FastifyRequest,
  reply: FastifyReply,
  a: NewAction,
  b: CommonBody,
) {
  const expiresAt = expiryOf(b);
  const key = req.headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || !/^[\x21\x22\x24-\x7e]{1,200}$/.test(key)))
    throw new CatchmentError('BAD_REQUEST', 'Idempotency-Key must be 1-200 visible ASCII characters other than #');
  const digest = requestDigest(a, b.reason);
  const stored = key ? `${key}#${digest}` : null;
  const actor = actorOf(req);
  // Keys are per token: another token's key of the same name is another request.
  const tokenId = req.principal?.tokenId ?? 0;
  const keyed = sql`coalesce(${t.idempotencyTokenId}, 0) = ${tokenId} and split_part(${t.idempotencyKey}, '#', 1) = ${key}`;
  let firstResponse: Record<string, unknown> | undefined;
  const outcome = await runChange<ActionRecord>(ctx, {
    actor,
    reason: b.reason,
    force: b.force ?? false,
    dryRun: b.dryRun ?? false,
    proposed: a,
    async prepare(tx) {
      if (!key || b.dryRun) return undefined;
      // Same key: serialised, then either the original action (same request) or a refusal.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`idem:${tokenId}:${key}`}))`);
      const [row] = await tx
        .select({ id: t.id, k: t.idempotencyKey, response: t.idempotencyResponse })
        .from(t)
        .where(keyed)
        .limit(1);
      if (!row) return undefined;
      const [prior] = await loadActions(tx, eq(t.id, row.id));
      if (!prior) return undefined;
      if (row.k !== stored)
        throw new CatchmentError(
          'IDEMPOTENCY_KEY_REUSED',
          `Idempotency-Key "${key}" was used for a different request`,
          {
            details: { actionId: prior.id },
          },
        );
      firstResponse = (row.response as Record<string, unknown> | null) ?? undefined;
      return prior;
    },
    async apply(tx) {
      const { edgeId, prefixId } = await resolveAction(tx, a);
      const [row] = await tx
        .insert(t)
        .values({
          kind: a.kind,
          edgeId,
          prefixId,
          params: a.params,
          reason: b.reason,
          actor,
          source: 'operator',
          forced: b.force ?? false,
          idempotencyKey: stored,
          idempotencyTokenId: stored ? tokenId : null,
          expiresAt,
        })
        .returning();
      if (!row) throw new CatchmentError('INTERNAL', 'action insert returned nothing');
      const [rec] = await loadActions(tx, eq(t.id, row.id));
      const result = rec as ActionRecord;
      return {
        result,
        audit: { action: a.kind, objectType: 'action', objectId: String(row.id), after: result },
      };
    },
    async applied(tx, o) {
      if (!stored) return;
      const body = { action: o.result, snapshotVersion: null, diff: o.diff, forced: o.forced, refusal: o.refusal };
      await tx.update(t).set({ idempotencyResponse: body }).where(eq(t.id, o.result.id));
    },
  });
  if (stored && outcome.kind === 'applied' && outcome.version !== null) {
    const version = outcome.version;
    await ctx.db
      .update(t)
      .set({
        idempotencyResponse: sql`jsonb_set(${t.idempotencyResponse}, '{snapshotVersion}', ${String(version)}::jsonb)`,
      })
      .where(eq(t.id, outcome.result.id));
  }
  return sendOutcome(reply, outcome, false, firstResponse);
}

/** Reverts the given active actions (undrain, unfreeze, restore...) through the same pipeline. */
export async function revertActions(
  ctx: ApiContext,
  req: FastifyRequest,
  reply: FastifyReply,
  select: SQL,
  proposed: NewAction,
  b: { reason: string; force?: boolean; dryRun?: boolean },
  what: string,
) {
  const actor = actorOf(req);
  const outcome = await runChange<ActionRecord[]>(ctx, {
    actor,
    reason: b.reason,
    force: b.force ?? false,
    dryRun: b.dryRun ?? false,
    proposed,
    async apply(tx) {
      const targets = await loadActions(tx, and(select, activeNow()));
      const ids = targets.map((x) => x.id);
      if (ids.length > 0)
        await tx.update(t).set({ revertedAt: new Date(), revertedBy: actor }).where(inArray(t.id, ids));
      const result = ids.length > 0 ? await loadActions(tx, inArray(t.id, ids)) : [];
      return {
        result,
        audit: { action: 'revert', objectType: 'action', objectId: what, before: targets, after: { reverted: ids } },
      };
    },
  });
  return sendOutcome(reply, outcome, true);
}

export function actionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const ActionKindSchema = Type.Enum([...ACTION_KINDS]);
  const actionResponses = { 200: DryRunResult, 201: ActionResult, ...errorResponses };
  const revertResponses = { 200: Type.Union([RevertResult, DryRunResult]), ...errorResponses };
  const EdgeParams = Type.Object({ name: Type.String({ maxLength: 63 }) });
  const edgeSel = async (name: string) => {
    const [e] = await ctx.db.select({ id: schema.edges.id }).from(schema.edges).where(eq(schema.edges.name, name));
    if (!e) throw new CatchmentError('NOT_FOUND', `edge "${name}" does not exist`);
    return e.id;
  };

  app.get(
    '/v1/actions',
    {
      config: { access: READ },
      schema: {
        tags: ['actions'],
        summary: 'Operator and automated actions',
        querystring: Type.Object(
          {
            ...PageQuery,
            active: Type.Optional(Type.Boolean()),
            kind: Type.Optional(ActionKindSchema),
            edge: Type.Optional(Type.String({ maxLength: 63 })),
            source: Type.Optional(Type.Union([Type.Literal('operator'), Type.Literal('automation')])),
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(ActionRecord), ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query as {
        limit?: number;
        cursor?: string;
        active?: boolean;
        kind?: string;
        edge?: string;
        source?: string;
      };
      const limit = q.limit ?? 100;
      const conds: (SQL | undefined)[] = [gt(t.id, decodeCursor(q.cursor))];
      if (q.kind) conds.push(eq(t.kind, q.kind));
      if (q.source) conds.push(eq(t.source, q.source));
      if (q.edge) conds.push(eq(schema.edges.name, q.edge));
      if (q.active === true) conds.push(activeNow());
      if (q.active === false) conds.push(sql`not (${activeNow()})`);
      const rows = await loadActions(ctx.db, and(...conds), limit + 1);
      return pageOf(
        rows,
        limit,
        (r) => r.id,
        (r) => r,
      );
    },
  );

  app.get(
    '/v1/actions/:id',
    {
      config: { access: READ },
      schema: {
        tags: ['actions'],
        summary: 'One action',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        response: { 200: ActionRecord, ...errorResponses },
      },
    },
    async (req) => {
      const [a] = await loadActions(ctx.db, eq(t.id, (req.params as { id: number }).id));
      if (!a) throw new CatchmentError('NOT_FOUND', 'no such action');
      return a;
    },
  );

  const GenericBody = Type.Object(
    {
      kind: ActionKindSchema,
      edge: Type.Optional(Type.String({ maxLength: 63 })),
      params: Type.Optional(FreeForm("the kind's parameters (packages/core actions.ts)")),
      ...Common,
    },
    { additionalProperties: false },
  );
  app.post(
    '/v1/actions',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['actions'],
        summary: 'Create any action (the specific routes below are shorthands); Idempotency-Key supported',
        body: GenericBody,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
        response: actionResponses,
      },
    },
    async (req, reply) => {
      const b = req.body as Static<typeof GenericBody>;
      const params = b.params ?? {};
      const schemaOf = ActionParams[b.kind] as TSchema;
      const { Value } = await import('typebox/value');
      const errors = [...Value.Errors(schemaOf, params)].map((e) => ({
        path: `/params${e.instancePath}`,
        message: e.message,
        code: 'VALIDATION_FAILED' as const,
      }));
      if (errors.length > 0) throw fieldProblem(errors);
      return createAction(ctx, req, reply, { kind: b.kind, edge: b.edge ?? null, params }, b);
    },
  );

  app.post(
    '/v1/actions/:id/revert',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['actions'],
        summary: 'Revert one action (idempotent)',
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        body: UndoBody,
        response: revertResponses,
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: number };
      const [a] = await loadActions(ctx.db, eq(t.id, id));
      if (!a) throw new CatchmentError('NOT_FOUND', `action ${id} does not exist`);
      return revertActions(
        ctx,
        req,
        reply,
        eq(t.id, id),
        { kind: a.kind as ActionKind, edge: a.edge, params: a.params, revert: true },
        req.body as Static<typeof UndoBody>,
        String(id),
      );
    },
  );

  /** Shorthands on an edge: drain, force-down, shift... and their undo. */
  const edgeAction = (path: string, kind: ActionKind, params: TSchema | undefined, summary: string) => {
    const Body = Type.Object(
      { ...(params ? { params } : {}), ...Common },
      { additionalProperties: false, ...(params ? {} : {}) },
    );
    app.post(
      `/v1/edges/:name/${path}`,
      {
        config: { access: OPERATE },
        schema: {
          tags: ['actions'],
          summary,
          params: EdgeParams,
          body: Body,
          headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
          response: actionResponses,
        },
      },
      async (req, reply) => {
        const b = req.body as CommonBody & { params?: Record<string, unknown> };
        const { name } = req.params as { name: string };
        return createAction(ctx, req, reply, { kind, edge: name, params: b.params ?? {} }, b);
      },
    );
  };
  const edgeUndo = (path: string, kinds: ActionKind[], summary: string) => {
    app.post(
      `/v1/edges/:name/${path}`,
      {
        config: { access: OPERATE },
        schema: { tags: ['actions'], summary, params: EdgeParams, body: UndoBody, response: revertResponses },
      },
      async (req, reply) => {
        const { name } = req.params as { name: string };
        const edgeId = await edgeSel(name);
        return revertActions(
          ctx,
          req,
          reply,
          and(eq(t.edgeId, edgeId), inArray(t.kind, kinds)) as SQL,
          { kind: kinds[0] as ActionKind, edge: name, params: {}, revert: true },
          req.body as Static<typeof UndoBody>,
          `${name}:${path}`,
        );
      },
    );
  };
  edgeAction('drain', 'drain', undefined, 'Drain an edge: DNS stops answering with it (routes stay)');
  edgeUndo('undrain', ['drain'], 'Undo drain actions of an edge');
  edgeAction('force-down', 'force-down', undefined, 'Force an edge down: no DNS answers, its announcements withdrawn');
  edgeAction('force-up', 'force-up', undefined, 'Force an edge up whatever its configured state');
  edgeUndo('release', ['force-down', 'force-up'], 'Undo force-down / force-up of an edge');
  edgeAction('freeze', 'freeze', undefined, 'Freeze automation for one edge');
  edgeUndo('unfreeze', ['freeze'], 'Unfreeze automation for one edge');
  edgeAction('shift', 'dns-shift', ActionParams['dns-shift'], "Shift N % of an edge's DNS answers to other edges");
  edgeUndo('unshift', ['dns-shift'], 'Undo DNS shifts of an edge');
  edgeAction('communities', 'communities', ActionParams.communities, "Add BGP communities to an edge's announcements");
  edgeUndo('clear-communities', ['communities'], 'Undo community actions of an edge');
  edgeAction('dsr', 'dsr-shed', ActionParams['dsr-shed'], 'Set DSR shedding of new flows to other edges');
  edgeUndo('undsr', ['dsr-shed'], 'Undo DSR shedding of an edge');

  const GlobalBody = Type.Object(Common, { additionalProperties: false });
  app.post(
    '/v1/automation/freeze',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['actions'],
        summary: 'Freeze automation globally',
        body: GlobalBody,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
        response: actionResponses,
      },
    },
    async (req, reply) =>
      createAction(ctx, req, reply, { kind: 'freeze', edge: null, params: {} }, req.body as CommonBody),
  );
  app.post(
    '/v1/automation/unfreeze',
    {
      config: { access: OPERATE },
      schema: { tags: ['actions'], summary: 'Unfreeze automation globally', body: UndoBody, response: revertResponses },
    },
    async (req, reply) =>
      revertActions(
        ctx,
        req,
        reply,
        and(eq(t.kind, 'freeze'), isNull(t.edgeId)) as SQL,
        { kind: 'freeze', edge: null, params: {}, revert: true },
        req.body as Static<typeof UndoBody>,
        'automation:unfreeze',
      ),
  );

  const PrefixParams = Type.Object({ cidr: Type.String({ minLength: 3, maxLength: 49 }) });
  const prefixOwner = async (cidr: string) => {
    const problem = cidrProblem(cidr);
    if (problem) throw new CatchmentError('NOT_FOUND', `prefix ${cidr} does not exist (${problem})`);
    const [p] = await ctx.db
      .select({
        id: schema.prefixes.id,
        kind: schema.prefixes.kind,
        edge: schema.edges.name,
        cidr: schema.prefixes.cidr,
      })
      .from(schema.prefixes)
      .leftJoin(schema.edges, eq(schema.edges.id, schema.prefixes.edgeId))
      .where(eq(schema.prefixes.cidr, parseCidr(cidr).text));
    if (!p) throw new CatchmentError('NOT_FOUND', `prefix ${cidr} does not exist`);
    if (p.kind !== 'unicast' || !p.edge)
      throw new CatchmentError(
        'STATE_CONFLICT',
        `${p.cidr} is an anycast supernet: only unicast prefixes are withdrawn`,
      );
    return { id: p.id, edge: p.edge, cidr: p.cidr };
  };
  app.post(
    '/v1/prefixes/:cidr/withdraw',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['actions'],
        summary: 'Withdraw a unicast prefix (its traffic follows the covering supernet)',
        params: PrefixParams,
        body: GlobalBody,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })) }),
        response: actionResponses,
      },
    },
    async (req, reply) => {
      const p = await prefixOwner((req.params as { cidr: string }).cidr);
      return createAction(
        ctx,
        req,
        reply,
        { kind: 'withdraw-unicast', edge: p.edge, params: { prefix: p.cidr } },
        req.body as CommonBody,
      );
    },
  );
  app.post(
    '/v1/prefixes/:cidr/restore',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['actions'],
        summary: 'Restore (re-announce) a withdrawn unicast prefix',
        params: PrefixParams,
        body: UndoBody,
        response: revertResponses,
      },
    },
    async (req, reply) => {
      const p = await prefixOwner((req.params as { cidr: string }).cidr);
      return revertActions(
        ctx,
        req,
        reply,
        and(eq(t.kind, 'withdraw-unicast'), eq(t.prefixId, p.id)) as SQL,
        { kind: 'withdraw-unicast', edge: p.edge, params: { prefix: p.cidr }, revert: true },
        req.body as Static<typeof UndoBody>,
        p.cidr,
      );
    },
  );
}
