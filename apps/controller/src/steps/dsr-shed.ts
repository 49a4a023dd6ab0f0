import type { StepPlanner } from './types.ts';

/** A dsr-shed step: its fraction of new flows, to its named targets or to those the prediction picks. */
export const dsrShed: StepPlanner = (_world, runId, edge, stage) => {
  const step = stage.step;
  if (step.kind !== 'dsr-shed') return { proposals: [], refusals: [] };
  const params = {
    fraction: step.fraction,
    ...(step.targets && step.targets.length > 0 ? { targets: step.targets } : {}),
  };
  return { proposals: [{ kind: 'dsr-shed', edge, params, source: 'automation', runId }], refusals: [] };
};
