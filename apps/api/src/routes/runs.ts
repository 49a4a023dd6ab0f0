import { CatchmentError } from '@catchment/core';
import { abortRun, type Db, decideStage, schema } from '@catchment/db';
import { and, asc, eq, gt, inArray, type SQL, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { actorOf, OPERATE, READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { decodeCursor, Page, PageQuery, pageOf } from '../pagination.ts';
import { errorResponses, Reason, Timestamp } from '../schemas.ts';

const RunStep = Type.Object({
  position: Type.Integer(),
  stage: Type.Integer(),
  kind: Type.String(),
  state: Type.String(),
  params: Type.Unknown(),
  predicted: Type.Unknown(),
  observed: Type.Unknown(),
  refusal: Type.Unknown(),
  actionId: Type.Union([Type.Integer(), Type.Null()]),
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  decidedAt: Type.Union([Timestamp, Type.Null()]),
  startedAt: Timestamp,
  endedAt: Type.Union([Timestamp, Type.Null()]),
});
export const Run = Type.Object({
  id: Type.Integer(),
  playbook: Type.String(),
  edge: Type.Union([Type.String(), Type.Null()]),
  state: Type.String(),
  currentStep: Type.Integer(),
  mode: Type.String(),
  trigger: Type.Unknown(),
  plan: Type.Unknown(),
  error: Type.Union([Type.String(), Type.Null()]),
  /** Why the controller holds the run still now (verifying, dwell, missing data, a refused stage's backoff...). */
  holding: Type.Union([Type.Object({ reason: Type.String(), since: Timestamp }), Type.Null()]),
  startedAt: Timestamp,
  updatedAt: Timestamp,
  endedAt: Type.Union([Timestamp, Type.Null()]),
  steps: Type.Optional(Type.Array(RunStep)),
});
type Run = Static<typeof Run>;

const r = schema.playbookRuns;
/** The playbook's name now, or the name the run started under when the playbook was deleted. */
const playbookName = sql<string>`coalesce(${schema.playbooks.name}, ${r.trigger}->>'playbook', '')`;

/** The controller's memory (apps/controller run-machine.ts) says why it holds; read defensively. */
function holdOf(machine: unknown): { reason: string; since: string } | null {
  const hold = (machine as { hold?: { reason?: unknown; since?: unknown } } | null)?.hold;
  return typeof hold?.reason === 'string' && typeof hold.since === 'string'
    ? { reason: hold.reason, since: hold.since }
    : null;
}

async function loadRuns(db: Db, where: SQL | undefined, limit: number, withSteps = false): Promise<Run[]> {
  const rows = await db
    .select({ run: r, playbook: playbookName, edge: schema.edges.name })
    .from(r)
    .leftJoin(schema.playbooks, eq(schema.playbooks.id, r.playbookId))
    .leftJoin(schema.edges, eq(schema.edges.id, r.edgeId))
    .where(where)
    .orderBy(asc(r.id))
    .limit(limit);
  const steps =
    withSteps && rows.length > 0
      ? await db
          .select()
          .from(schema.runSteps)
          .where(
            inArray(
              schema.runSteps.runId,
              rows.map((x) => x.run.id),
            ),
          )
          .orderBy(asc(schema.runSteps.position), asc(schema.runSteps.stage))
      : [];
  return rows.map(({ run, playbook, edge }) => ({
    id: run.id,
    playbook,
    edge,
    state: run.state,
    currentStep: run.currentStep,
    mode: run.mode,
    trigger: run.trigger,
    plan: run.plan,
    error: run.error,
    holding: run.endedAt ? null : holdOf(run.machine),
    startedAt: run.startedAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
    endedAt: run.endedAt?.toISOString() ?? null,
    ...(withSteps
      ? {
          steps: steps
            .filter((s) => s.runId === run.id)
            .map((s) => ({
              position: s.position,
              stage: s.stage,
              kind: s.kind,
              state: s.state,
              params: s.params,
              predicted: s.predicted,
              observed: s.observed,
              refusal: s.refusal,
              actionId: s.actionId,
              decidedBy: s.decidedBy,
              decidedAt: s.decidedAt?.toISOString() ?? null,
              startedAt: s.startedAt.toISOString(),
              endedAt: s.endedAt?.toISOString() ?? null,
            })),
        }
      : {}),
  }));
}

/**
 * Playbook runs are written by the controller; operators read them, approve runs of
 * `approve` playbooks, and abort runs (which also reverts the run's active actions, so
 * an abort takes effect even before the controller notices).
 */
export function runRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });
  const Body = Type.Object({ reason: Reason }, { additionalProperties: false });

  app.get(
    '/v1/runs',
    {
      config: { access: READ },
      schema: {
        tags: ['runs'],
        summary: 'Playbook runs',
        querystring: Type.Object(
          {
            ...PageQuery,
            state: Type.Optional(Type.String({ maxLength: 40 })),
            playbook: Type.Optional(Type.String({ maxLength: 63 })),
            edge: Type.Optional(Type.String({ maxLength: 63 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(Run), ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query as { limit?: number; cursor?: string; state?: string; playbook?: string; edge?: string };
      const limit = q.limit ?? 100;
      const conds: SQL[] = [gt(r.id, decodeCursor(q.cursor))];
      if (q.state) conds.push(eq(r.state, q.state));
      if (q.playbook) conds.push(sql`${playbookName} = ${q.playbook}`);
      if (q.edge) conds.push(eq(schema.edges.name, q.edge));
      const rows = await loadRuns(ctx.db, and(...conds), limit + 1);
      return pageOf(
        rows,
        limit,
        (x) => x.id,
        (x) => x,
      );
    },
  );

  app.get(
    '/v1/runs/:id',
    {
      config: { access: READ },
      schema: {
        tags: ['runs'],
        summary: 'One run with its steps',
        params: Id,
        response: { 200: Run, ...errorResponses },
      },
    },
    async (req) => {
      const [run] = await loadRuns(ctx.db, eq(r.id, (req.params as { id: number }).id), 1, true);
      if (!run) throw new CatchmentError('NOT_FOUND', 'no such run');
      return run;
    },
  );

  /**
   * Approval contract (packages/core runs.ts, packages/db decideStage): the stage the run
   * waits on moves from awaiting-approval to approved or rejected, with who and when; a
   * database trigger wakes the controller, which applies an approved stage after checking
   * the rules again.
   */
  const decide = (path: 'approve' | 'reject', decision: 'approved' | 'rejected', summary: string) =>
    app.post(
      `/v1/runs/:id/${path}`,
      {
        config: { access: OPERATE },
        schema: { tags: ['runs'], summary, params: Id, body: Body, response: { 200: Run, ...errorResponses } },
      },
      async (req) => {
        const { id } = req.params as { id: number };
        const { reason } = req.body as Static<typeof Body>;
        const actor = actorOf(req);
        await decideStage(ctx.db, id, decision, actor, reason);
        const [out] = await loadRuns(ctx.db, eq(r.id, id), 1, true);
        return out as Run;
      },
    );
  decide('approve', 'approved', 'Approve the stage a run waits on (mode approve)');
  decide('reject', 'rejected', 'Reject the stage a run waits on (the controller skips it)');

  app.post(
    '/v1/runs/:id/abort',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['runs'],
        summary: 'Abort a run at once: its active actions are reverted (packages/db abortRun, as the controller does)',
        params: Id,
        body: Body,
        response: { 200: Run, ...errorResponses },
      },
    },
    async (req) => {
      const { id } = req.params as { id: number };
      const { reason } = req.body as Static<typeof Body>;
      const actor = actorOf(req);
      await abortRun(ctx.db, id, actor, reason);
      await ctx.changed(actor);
      const [run] = await loadRuns(ctx.db, eq(r.id, id), 1, true);
      return run as Run;
    },
  );
}
