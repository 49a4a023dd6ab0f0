import type { Change, Refusal, SafetyWorld } from './types.ts';
import { edgeOf, frozenFor } from './world.ts';

/**
 * Safety rule 8, humans win: automation does not touch an edge whose operator set an
 * override, while automation is frozen (globally or for the edge), or where an
 * operator's own action of the same kind is active. Restores are refused too: a
 * frozen system stays exactly as the operator froze it.
 */
export function checkHumansWin(world: SafetyWorld, change: Change): Refusal[] {
  if (change.source !== 'automation') return [];
  const out: Refusal[] = [];
  if (frozenFor(world, change.edge)) {
    out.push({
      rule: 'humans-win',
      reason: `automation is frozen for ${change.edge} by an operator`,
      details: { edge: change.edge },
    });
  }
  const edge = edgeOf(world, change.edge);
  if (edge && edge.override !== 'none') {
    out.push({
      rule: 'humans-win',
      reason: `${change.edge} has the operator override "${edge.override}"`,
      details: { edge: change.edge, override: edge.override },
    });
  }
  const operator = world.actions.find(
    (a) => a.source === 'operator' && a.kind === change.kind && a.edge === change.edge,
  );
  if (operator) {
    out.push({
      rule: 'humans-win',
      reason: `an operator's ${change.kind} on ${change.edge} is active`,
      details: { edge: change.edge, action: operator.id ?? null },
    });
  }
  // Load must not be pushed onto an edge an operator is emptying or forcing.
  for (const m of change.moves) {
    const target = edgeOf(world, m.edge);
    if (target && (target.override === 'drain' || target.override === 'force-down')) {
      out.push({
        rule: 'humans-win',
        reason: `target ${m.edge} has the operator override "${target.override}"`,
        details: { target: m.edge, override: target.override },
      });
    }
  }
  return out;
}

/**
 * Refusals that stop automation on an edge altogether (a freeze, an override), as
 * opposed to an operator's action of one kind, which only refuses that kind of step.
 */
export function automationBlocked(world: SafetyWorld, edge: string): Refusal[] {
  return checkHumansWin(world, {
    kind: 'dns-shift',
    edge,
    source: 'automation',
    direction: 'shed',
    params: {},
    moves: [],
  }).filter((r) => r.details.action === undefined);
}
