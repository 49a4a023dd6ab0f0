import type { FastifyReply } from 'fastify';
import type { ChangeOutcome } from './pipeline.ts';
import type { ActionRecord } from './schemas.ts';

/** Answers a created (201) or reverted (200) action, a dry run, or a replay of an earlier request. */
export function sendOutcome(
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
