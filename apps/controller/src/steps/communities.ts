import type { Refusal } from '@catchment/safety';
import type { StepPlanner } from './types.ts';

/**
 * A communities step: each transit's values for the step's intents, one action per
 * transit (its values go to that transit's sessions only), on every announcement of the edge.
 */
export const communities: StepPlanner = (world, runId, edge, stage) => {
  const step = stage.step;
  if (step.kind !== 'communities') return { proposals: [], refusals: [] };
  const refusals: Refusal[] = [];
  const transits = step.transit ? [step.transit] : [...world.transits.keys()];
  const perTransit = new Map<string, string[]>();
  for (const t of transits) {
    const intents = world.transits.get(t);
    if (!intents) {
      refusals.push({ rule: 'coverage', reason: `transit ${t} does not exist`, details: { transit: t } });
      continue;
    }
    const values = [...new Set(step.intents.flatMap((intent) => intents[intent] ?? []))];
    if (values.length > 0) perTransit.set(t, values);
  }
  if (perTransit.size === 0) {
    refusals.push({
      rule: 'coverage',
      reason: `no community values for intents ${step.intents.join(', ')}`,
      details: { intents: step.intents },
    });
  }
  return {
    proposals: [...perTransit].map(([transit, values]) => ({
      kind: 'communities' as const,
      edge,
      params: { communities: values, transit },
      source: 'automation' as const,
      runId,
    })),
    refusals,
  };
};
