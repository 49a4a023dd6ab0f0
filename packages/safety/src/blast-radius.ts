import type { Change, Refusal, SafetyAction, SafetyWorld } from './types.ts';
import { actionsAfter, edgeUsable, shedFraction } from './world.ts';

/** The action a change would leave active (undefined for a full restore). */
export function resultingAction(change: Change): SafetyAction | undefined {
  if (change.direction === 'restore') {
    const restored = change.kind === 'dns-shift' && Number(change.params.percent) > 0;
    const dsr = change.kind === 'dsr-shed' && Number(change.params.fraction) > 0;
    if (!restored && !dsr) return undefined;
  }
  return {
    kind: change.kind,
    edge: change.edge,
    prefix: change.prefix ?? null,
    source: change.source,
    params: change.params,
  };
}

/**
 * Safety rule 3, blast radius: at most `maxEdgesShed` edges shed at once (edges with
 * active shedding actions, plus edges that are not usable), and at most
 * `maxCapacityShedPercent` % of the total capacity shed (each edge counts its capacity
 * times its shed fraction). Only changes that shed more are judged: a restore always
 * makes the blast radius smaller.
 */
export function checkBlastRadius(world: SafetyWorld, change: Change): Refusal[] {
  if (change.direction !== 'shed') return [];
  const before = world.actions;
  const after = actionsAfter(world, resultingAction(change), change.replaces);
  const { maxEdgesShed, maxCapacityShedPercent } = world.settings;
  const out: Refusal[] = [];
  const shedBefore = world.edges.filter((e) => shedFraction(e, before) > 0).map((e) => e.name);
  const shedAfter = world.edges.filter((e) => shedFraction(e, after) > 0).map((e) => e.name);
  if (shedAfter.length > maxEdgesShed && shedAfter.length > shedBefore.length) {
    out.push({
      rule: 'blast-radius',
      reason: `shedding ${change.edge} would make ${shedAfter.length} edges shed at once (at most ${maxEdgesShed})`,
      details: { shedEdges: shedAfter, maxEdgesShed },
    });
  }
  const total = world.edges.reduce((s, e) => s + e.capacityRps, 0);
  const shedCap = (actions: SafetyAction[]) =>
    world.edges.reduce((s, e) => s + e.capacityRps * shedFraction(e, actions), 0);
  const beforePct = total > 0 ? (100 * shedCap(before)) / total : 0;
  const afterPct = total > 0 ? (100 * shedCap(after)) / total : 100;
  if (afterPct > maxCapacityShedPercent + 1e-9 && afterPct > beforePct) {
    out.push({
      rule: 'blast-radius',
      reason: `shedding ${change.edge} would shed ${afterPct.toFixed(1)} % of total capacity (at most ${maxCapacityShedPercent} %)`,
      details: { shedPercent: afterPct, maxCapacityShedPercent, totalCapacityRps: total },
    });
  }
  return out;
}

/**
 * Safety rule 3, second half: a service is never left without a DNS answer: after the
 * change, each service still has a usable edge that is not fully shifted away, or
 * an anycast fallback address.
 */
export function checkServiceAnswer(world: SafetyWorld, change: Change): Refusal[] {
  if (change.direction !== 'shed' || change.kind !== 'dns-shift') return [];
  const after = actionsAfter(world, resultingAction(change), change.replaces);
  const fullyShifted = (edge: string) =>
    after.some((a) => a.kind === 'dns-shift' && a.edge === edge && Number(a.params.percent) >= 100);
  const out: Refusal[] = [];
  for (const svc of world.services) {
    if (svc.anycast || !svc.edges.includes(change.edge)) continue;
    const answering = svc.edges.filter((name) => {
      const e = world.edges.find((x) => x.name === name);
      return e !== undefined && edgeUsable(e) && !fullyShifted(name);
    });
    if (answering.length === 0) {
      out.push({
        rule: 'service-answer',
        reason: `${svc.name} would be left without a DNS answer`,
        details: { service: svc.name },
      });
    }
  }
  return out;
}
