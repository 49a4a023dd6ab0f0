import { createHash } from 'node:crypto';
import { canonicalJson } from '@catchment/core';
import { type IncomingSignal, ingestSignal, latestSignal, schema } from '@catchment/db';
import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { actorOf, OPERATE, READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { decodeCursor, Page, PageQuery, pageOf } from '../pagination.ts';
import { fieldProblem } from '../problem.ts';
import { errorResponses, Timestamp } from '../schemas.ts';

/** Label values are bounded; Alertmanager's own limits are far below these. */
const Labels = Type.Record(Type.String(), Type.String({ maxLength: 4096 }), { maxProperties: 200 });
const RESERVED_SOURCES = new Set(['slo', 'alertmanager']);

/** Alertmanager's webhook payload, version 4 (extra fields tolerated: Alertmanager may add some). */
export const AlertmanagerWebhook = Type.Object({
  version: Type.Literal('4'),
  groupKey: Type.String({ maxLength: 8192 }),
  truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0 })),
  status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
  receiver: Type.String({ maxLength: 256 }),
  groupLabels: Labels,
  commonLabels: Labels,
  commonAnnotations: Labels,
  externalURL: Type.String({ maxLength: 4096 }),
  alerts: Type.Array(
    Type.Object({
      status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
      labels: Labels,
      annotations: Labels,
      /** RFC 3339; part of the signal's identity, so a text that is not a time is refused. */
      startsAt: Timestamp,
      /** RFC 3339; Alertmanager's zero time 0001-01-01T00:00:00Z means no end yet. */
      endsAt: Timestamp,
      generatorURL: Type.String({ maxLength: 4096 }),
      fingerprint: Type.String({ minLength: 1, maxLength: 200 }),
    }),
    { maxItems: 10000 },
  ),
});

export const GenericSignal = Type.Object(
  {
    source: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{0,62}$' })),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
    /** Identity of the condition across resends; default: a digest of name and labels. */
    fingerprint: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    labels: Type.Optional(Labels),
    edge: Type.Optional(Type.String({ maxLength: 63 })),
    slo: Type.Optional(Type.String({ maxLength: 63 })),
    severity: Type.Optional(Type.String({ maxLength: 32 })),
    value: Type.Optional(Type.Number()),
    startsAt: Type.Optional(Timestamp),
    endsAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

export const Signal = Type.Object({
  id: Type.Integer(),
  source: Type.String(),
  fingerprint: Type.String(),
  name: Type.String(),
  edge: Type.Union([Type.String(), Type.Null()]),
  slo: Type.Union([Type.String(), Type.Null()]),
  severity: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  labels: Labels,
  value: Type.Union([Type.Number(), Type.Null()]),
  startsAt: Timestamp,
  endsAt: Type.Union([Timestamp, Type.Null()]),
  receivedAt: Timestamp,
});

const Outcome = Type.Union([Type.Literal('new'), Type.Literal('resolved'), Type.Literal('duplicate')]);
const IntakeResult = Type.Object({
  received: Type.Integer(),
  new: Type.Integer(),
  resolved: Type.Integer(),
  duplicates: Type.Integer(),
  signals: Type.Array(
    Type.Object({ id: Type.Integer(), fingerprint: Type.String(), status: Type.String(), outcome: Outcome }),
  ),
});

/** Alertmanager's zero time ("0001-01-01T00:00:00Z") means "no end yet". */
function time(text: string | undefined): Date | null {
  if (!text || text.startsWith('0001-')) return null;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d;
}

function digest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

export function signalRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const intake = async (items: IncomingSignal[], actor: string) => {
    const out: Static<typeof IntakeResult> = {
      received: items.length,
      new: 0,
      resolved: 0,
      duplicates: 0,
      signals: [],
    };
    for (const s of items) {
      const r = await ingestSignal(ctx.db, s, actor);
      ctx.metrics.signals.inc({ source: s.source, outcome: r.outcome });
      if (r.outcome === 'new') out.new++;
      else if (r.outcome === 'resolved') out.resolved++;
      else out.duplicates++;
      out.signals.push({ id: r.id, fingerprint: s.fingerprint, status: s.status, outcome: r.outcome });
    }
    return out;
  };

  app.post(
    '/v1/signals/alertmanager',
    {
      config: { access: OPERATE },
      // A large alert group can exceed the default body limit; Alertmanager would retry it forever.
      bodyLimit: 16 * 1024 * 1024,
      schema: {
        tags: ['signals'],
        summary: "Alertmanager webhook (version 4); bearer or basic auth from Alertmanager's http_config",
        body: AlertmanagerWebhook,
        response: { 200: IntakeResult, ...errorResponses },
      },
    },
    async (req) => {
      const hook = req.body as Static<typeof AlertmanagerWebhook>;
      return intake(
        hook.alerts.map((a) => {
          const value = Number(a.annotations.value);
          return {
            source: 'alertmanager',
            fingerprint: a.fingerprint,
            name: a.labels.alertname ?? 'unnamed',
            status: a.status,
            labels: a.labels,
            edge: a.labels.edge,
            slo: a.labels.slo,
            severity: a.labels.severity,
            value: a.annotations.value !== undefined && Number.isFinite(value) ? value : null,
            startsAt: time(a.startsAt) ?? new Date(0),
            endsAt: time(a.endsAt),
          };
        }),
        actorOf(req),
      );
    },
  );

  app.post(
    '/v1/signals',
    {
      config: { access: OPERATE },
      schema: {
        tags: ['signals'],
        summary: 'Generic signal (any monitoring system); idempotent by source, fingerprint and start time',
        body: GenericSignal,
        response: { 200: IntakeResult, ...errorResponses },
      },
    },
    async (req) => {
      const b = req.body as Static<typeof GenericSignal>;
      const source = b.source ?? 'generic';
      // 'slo' is the controller's own evaluations, 'alertmanager' the webhook's: not to be imitated.
      if (RESERVED_SOURCES.has(source))
        throw fieldProblem([{ path: '/source', message: `source "${source}" is reserved`, code: 'VALIDATION_FAILED' }]);
      const labels = b.labels ?? {};
      const fingerprint = b.fingerprint ?? digest({ name: b.name, labels, edge: b.edge, slo: b.slo });
      let startsAt = time(b.startsAt);
      if (!startsAt) {
        // Without a start time the latest occurrence of the same identity is meant: a
        // resend of firing or of resolved lands on it; firing after resolved is a new one.
        const last = await latestSignal(ctx.db, source, fingerprint);
        startsAt = last && !(last.status === 'resolved' && b.status === 'firing') ? last.startsAt : new Date();
      }
      return intake(
        [
          {
            source,
            fingerprint,
            name: b.name,
            status: b.status,
            labels: { ...labels, ...(b.edge ? { edge: b.edge } : {}), ...(b.slo ? { slo: b.slo } : {}) },
            edge: b.edge ?? labels.edge,
            slo: b.slo ?? labels.slo,
            severity: b.severity ?? labels.severity,
            value: b.value ?? null,
            startsAt,
            endsAt: time(b.endsAt),
          },
        ],
        actorOf(req),
      );
    },
  );

  app.get(
    '/v1/signals',
    {
      config: { access: READ },
      schema: {
        tags: ['signals'],
        summary: 'Received signals',
        querystring: Type.Object(
          {
            ...PageQuery,
            status: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('resolved')])),
            source: Type.Optional(Type.String({ maxLength: 63 })),
            edge: Type.Optional(Type.String({ maxLength: 63 })),
            name: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(Signal), ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query as {
        limit?: number;
        cursor?: string;
        status?: string;
        source?: string;
        edge?: string;
        name?: string;
      };
      const t = schema.signals;
      const limit = q.limit ?? 100;
      const conds: SQL[] = [gt(t.id, decodeCursor(q.cursor))];
      if (q.status) conds.push(eq(t.status, q.status));
      if (q.source) conds.push(eq(t.source, q.source));
      if (q.name) conds.push(eq(t.name, q.name));
      if (q.edge) conds.push(sql`${t.edgeId} = (select id from edges where name = ${q.edge})`);
      const rows = await ctx.db
        .select({ s: t, edge: schema.edges.name })
        .from(t)
        .leftJoin(schema.edges, eq(schema.edges.id, t.edgeId))
        .where(and(...conds))
        .orderBy(asc(t.id))
        .limit(limit + 1);
      return pageOf(
        rows,
        limit,
        (r) => r.s.id,
        ({ s, edge }) => ({
          id: s.id,
          source: s.source,
          fingerprint: s.fingerprint,
          name: s.name,
          edge,
          slo: s.slo,
          severity: s.severity,
          status: s.status,
          labels: s.labels as Record<string, string>,
          value: s.value,
          startsAt: s.startsAt.toISOString(),
          endsAt: s.endsAt?.toISOString() ?? null,
          receivedAt: s.receivedAt.toISOString(),
        }),
      );
    },
  );
}
