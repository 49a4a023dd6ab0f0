import { Duration } from '@catchment/core';
import { type Static, Type } from 'typebox';
import { errorResponses, Reason, Timestamp } from '../schemas.ts';

// The shapes of the action routes' requests and responses (also the pin routes').

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
export type ActionRecord = Static<typeof ActionRecord>;

const Change = Type.Object({ path: Type.String(), before: Type.Unknown(), after: Type.Unknown() });
/** packages/safety's one refusal type, as the API and the controller's run history both show it. */
const RefusalSchema = Type.Object(
  {
    rule: Type.String({
      description: 'the safety rule (humans-win, blast-radius, capacity, route-budget, coverage, ...)',
    }),
    reason: Type.String(),
    details: Type.Record(Type.String(), Type.Unknown()),
    missingData: Type.Optional(
      Type.Literal(true, { description: 'refused for data nobody has now (a load, an agent report): may pass later' }),
    ),
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
export type UndoBody = Static<typeof UndoBody>;

/** The header of the routes that create an action: a retried request with the same key is replayed. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ maxLength: 200 })),
});
/** A creating route answers a dry run (200) or the created action (201). */
export const actionResponses = { 200: DryRunResult, 201: ActionResult, ...errorResponses };
/** An undoing route answers the reverted actions or a dry run (both 200). */
export const revertResponses = { 200: Type.Union([RevertResult, DryRunResult]), ...errorResponses };
