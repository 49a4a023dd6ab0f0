import type { Change, LoadMove, Refusal, SafetyWorld } from './types.ts';
import { edgeOf, edgeUsable } from './world.ts';

/**
 * Safety rule 4, capacity check: every shed predicts the load it moves onto each
 * target; it is refused when a target is unknown, not usable, has never reported its
 * load, or would exceed its SLO threshold (predicted utilisation > threshold).
 */
export function checkCapacity(world: SafetyWorld, change: Change): Refusal[] {
  if (change.direction !== 'shed') return [];
  return checkMoves(world, change.edge, change.moves);
}

/** The capacity check of load moved away from edge `from` (by any change) onto its targets. */
export function checkMoves(world: SafetyWorld, from: string, moves: readonly LoadMove[]): Refusal[] {
  const out: Refusal[] = [];
  for (const m of moves) {
    if (m.rps <= 0) continue;
    const target = edgeOf(world, m.edge);
    if (!target || m.edge === from) {
      out.push({ rule: 'capacity', reason: `target ${m.edge} is not another known edge`, details: { target: m.edge } });
      continue;
    }
    if (!edgeUsable(target)) {
      out.push({
        rule: 'capacity',
        reason: `target ${m.edge} is not usable (${target.state}, override ${target.override})`,
        details: { target: m.edge },
      });
      continue;
    }
    if (target.loadRps === null) {
      out.push({
        rule: 'capacity',
        reason: `target ${m.edge} has not reported its load: its headroom is unknown`,
        details: { target: m.edge },
        missingData: true,
      });
      continue;
    }
    const predicted = (target.loadRps + m.rps) / target.capacityRps;
    if (predicted > target.threshold + 1e-9) {
      out.push({
        rule: 'capacity',
        reason: `target ${m.edge} would reach ${(predicted * 100).toFixed(1)} % utilisation (threshold ${(target.threshold * 100).toFixed(1)} %)`,
        details: {
          target: m.edge,
          movedRps: m.rps,
          loadRps: target.loadRps,
          capacityRps: target.capacityRps,
          predictedUtilisation: predicted,
          threshold: target.threshold,
        },
      });
    }
  }
  return out;
}
