import { createHash } from 'node:crypto';
import { CatchmentError, canonicalJson } from '@catchment/core';
import { schema } from '@catchment/db';
import { eq, sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { expiryOf } from './expiry.ts';
import { runChange } from './pipeline.ts';
import { loadActions } from './records.ts';
import { type NewAction, resolveAction } from './resolve.ts';
import { sendOutcome } from './respond.ts';
import type { ActionRecord, CommonBody } from './schemas.ts';

const t = schema.actions;

function requestDigest(a: NewAction, reason: string): string {
  return createHash('sha256')
    .update(canonicalJson({ ...a, reason }))
    .digest('base64url')
    .slice(0, 22);
}

/** The request's Idempotency-Key, checked (undefined when it has none). */
function idempotencyKey(req: FastifyRequest): string | undefined {
  const key = req.headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || !/^[\x21\x22\x24-\x7e]{1,200}$/.test(key)))
    throw new CatchmentError('BAD_REQUEST', 'Idempotency-Key must be 1-200 visible ASCII characters other than #');
  return key;
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
  const key = idempotencyKey(req);
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
