import type { SheddingActionKind } from '@catchment/core';
import {
  type Change,
  type EngineOptions,
  judge,
  type PredictedLoad,
  type Prediction,
  type Refusal,
} from '@catchment/safety';
import type { ControllerWorld } from './model.ts';
import type { Stage } from './stages.ts';
import { communities } from './steps/communities.ts';
import { dnsShift } from './steps/dns-shift.ts';
import { dsrShed } from './steps/dsr-shed.ts';
import type { StepPlanner } from './steps/types.ts';
import { withdrawUnicast } from './steps/withdraw-unicast.ts';

export type { Prediction };

/** One action row the stage will write. */
export interface PlannedAction {
  kind: SheddingActionKind;
  edge: string;
  prefix?: string;
  params: Record<string, unknown>;
}

export interface Plan {
  actions: PlannedAction[];
  /** The shedding changes the safety rules judged. */
  changes: Change[];
  /** What the stage is expected to do, recorded on the stage row and the run. */
  prediction: Prediction & { predictedLoads: PredictedLoad[] };
  /** Every refusal: the step's own and packages/safety's judge (empty: the stage may go ahead). */
  refusals: Refusal[];
}

/** One module per step kind turns a stage into proposals. */
const STEP_PLANNERS: Record<SheddingActionKind, StepPlanner> = {
  'dns-shift': dnsShift,
  'withdraw-unicast': withdrawUnicast,
  communities,
  'dsr-shed': dsrShed,
};

/**
 * Plans one stage on `edge`: the step kind's module proposes its actions, then
 * packages/safety's judge predicts and judges them, exactly as it judges the same
 * change made by an operator through the API.
 */
export function planStage(
  world: ControllerWorld,
  runId: number,
  edge: string,
  stage: Stage,
  opts: EngineOptions,
): Plan {
  const kind = stage.step.kind;
  const step = kind === 'notify' ? undefined : STEP_PLANNERS[kind];
  const { proposals, refusals } = step ? step(world, runId, edge, stage) : { proposals: [], refusals: [] };
  const verdict = judge(world, proposals, opts);
  const source = world.edges.find((e) => e.name === edge);
  // A step with nothing to propose still shows the edge it was about.
  const prediction =
    proposals.length > 0
      ? verdict.prediction
      : { ...verdict.prediction, edge, loadRps: source?.loadRps ?? null, capacityRps: source?.capacityRps ?? 0 };
  const actions: PlannedAction[] = proposals.map((p, i) => {
    const params = verdict.params[i] ?? p.params;
    const prefix = typeof params.prefix === 'string' ? params.prefix : undefined;
    return { kind: p.kind as SheddingActionKind, edge, ...(prefix ? { prefix } : {}), params };
  });
  return {
    actions,
    changes: verdict.changes,
    prediction: { ...prediction, predictedLoads: verdict.predictedLoads },
    refusals: [...refusals, ...verdict.refusals],
  };
}
