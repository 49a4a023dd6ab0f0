import type { Change, Refusal, SafetyAction, SafetyService, SafetyWorld } from './types.ts';
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
  const after = actionsAfter(world, resultingAction(change), change.replaces);
  return blastRadius(world, { ...world, actions: after }, `shedding ${change.edge}`);
}

/**
 * The blast-radius comparison of two worlds (before and after any change: a shedding
 * action, an operator override): refused when the after-world sheds more edges than
 * allowed and more than before, or more capacity than allowed and more than before.
 * `what` names the change in the reasons.
 */
export function blastRadius(before: SafetyWorld, after: SafetyWorld, what: string): Refusal[] {
  const { maxEdgesShed, maxCapacityShedPercent } = after.settings;
  const out: Refusal[] = [];
  const shedIn = (w: SafetyWorld) => w.edges.filter((e) => shedFraction(e, w.actions) > 0).map((e) => e.name);
  const shedBefore = shedIn(before);
  const shedAfter = shedIn(after);
  if (shedAfter.length > maxEdgesShed && shedAfter.length > shedBefore.length) {
    out.push({
      rule: 'blast-radius',
      reason: `${what} would make ${shedAfter.length} edges shed at once (at most ${maxEdgesShed})`,
      details: { shedEdges: shedAfter, maxEdgesShed },
    });
  }
  const shedPercent = (w: SafetyWorld, empty: number) => {
    const total = w.edges.reduce((s, e) => s + e.capacityRps, 0);
    const shed = w.edges.reduce((s, e) => s + e.capacityRps * shedFraction(e, w.actions), 0);
    return total > 0 ? (100 * shed) / total : empty;
  };
  const beforePct = shedPercent(before, 0);
  const afterPct = shedPercent(after, 100);
  if (afterPct > maxCapacityShedPercent + 1e-9 && afterPct > beforePct) {
    out.push({
      rule: 'blast-radius',
      reason: `${what} would shed ${afterPct.toFixed(1)} % of total capacity (at most ${maxCapacityShedPercent} %)`,
      details: {
        shedPercent: afterPct,
        maxCapacityShedPercent,
        totalCapacityRps: after.edges.reduce((s, e) => s + e.capacityRps, 0),
      },
    });
  }
  return out;
}

/**
 * Whether DNS has an answer for a service in a world: an anycast fallback address, or
 * an edge with addresses that is usable and not fully shifted away.
 */
export function serviceAnswers(world: SafetyWorld, service: SafetyService): boolean {
  if (service.anycast) return true;
  const fullyShifted = (edge: string) =>
    world.actions.some((a) => a.kind === 'dns-shift' && a.edge === edge && Number(a.params.percent) >= 100);
  return service.edges.some((name) => {
    const e = world.edges.find((x) => x.name === name);
    return e !== undefined && edgeUsable(e) && !fullyShifted(name);
  });
}

/**
 * Safety rule 3, second half, for any change from `before` to `after`: a service that
 * has a DNS answer keeps one. Only a change that takes the last answer away is refused.
 */
export function servicesLosingAnswer(before: SafetyWorld, after: SafetyWorld): Refusal[] {
  return after.services
    .filter((svc) => serviceAnswers(before, svc) && !serviceAnswers(after, svc))
    .map((svc) => ({
      rule: 'service-answer' as const,
      reason: `${svc.name} would be left without a DNS answer`,
      details: { service: svc.name },
    }));
}

/**
 * Safety rule 3, second half: a service is never left without a DNS answer: after the
 * change, each service still has a usable edge that is not fully shifted away, or
 * an anycast fallback address.
 */
export function checkServiceAnswer(world: SafetyWorld, change: Change): Refusal[] {
  if (change.direction !== 'shed' || change.kind !== 'dns-shift') return [];
  const after = actionsAfter(world, resultingAction(change), change.replaces);
  const touched = { ...world, services: world.services.filter((s) => s.edges.includes(change.edge)) };
  return servicesLosingAnswer(touched, { ...touched, actions: after });
}
