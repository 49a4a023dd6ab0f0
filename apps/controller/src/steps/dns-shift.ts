import type { StepPlanner } from './types.ts';

/** A dns-shift stage: its schedule's percentage; the targets are the prediction's (the rule DNS uses). */
export const dnsShift: StepPlanner = (_world, runId, edge, stage) => ({
  proposals: [{ kind: 'dns-shift', edge, params: { percent: stage.percent ?? 0 }, source: 'automation', runId }],
  refusals: [],
});
