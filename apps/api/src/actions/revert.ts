import { schema } from '@catchment/db';
import { and, inArray, type SQL } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { runChange } from './pipeline.ts';
import { activeNow, loadActions } from './records.ts';
import type { NewAction } from './resolve.ts';
import { sendOutcome } from './respond.ts';
import type { ActionRecord } from './schemas.ts';

const t = schema.actions;

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
