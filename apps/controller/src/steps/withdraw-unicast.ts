import { announcedUnicast } from '@catchment/safety';
import type { StepPlanner } from './types.ts';

/** A withdraw-unicast step: the listed prefixes (default: every unicast prefix of the edge) still announced. */
export const withdrawUnicast: StepPlanner = (world, runId, edge, stage) => {
  const step = stage.step;
  const announced = announcedUnicast(world, edge);
  const listed =
    step.kind === 'withdraw-unicast' && step.prefixes && step.prefixes.length > 0 ? step.prefixes : announced;
  const prefixes = listed.filter((p) => announced.includes(p));
  if (prefixes.length === 0) {
    return {
      proposals: [],
      refusals: [
        { rule: 'coverage', reason: `${edge} has no announced unicast prefix to withdraw`, details: { edge } },
      ],
    };
  }
  return {
    proposals: prefixes.map((prefix) => ({
      kind: 'withdraw-unicast' as const,
      edge,
      params: { prefix },
      source: 'automation' as const,
      runId,
    })),
    refusals: [],
  };
};
