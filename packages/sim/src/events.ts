import { CatchmentError } from '@catchment/core';
import { hash32, type Population, unit } from './population.ts';
import type { ScenarioModel } from './scenario.ts';
import type { Topology } from './transits.ts';

/** Load multiplier of each entry group at second t (group 0: no event; group i + 1: event i's crowd). */
export function crowdFactorsAt(model: ScenarioModel, t: number, out: Float64Array): void {
  out[0] = 1;
  model.events.forEach((ev, i) => {
    if (ev.kind !== 'flash-crowd') return;
    let f = 1;
    if (t >= ev.atS && t < ev.endS) {
      const ramp = ev.rampS > 0 ? Math.min(1, (t - ev.atS + 1) / ev.rampS) : 1;
      f = 1 + (ev.factor - 1) * ramp;
    }
    out[i + 1] = f;
  });
}

/** Per transit outage event, the topology's index of its transit (the configuration must have it). */
export function outageTransits(model: ScenarioModel, topo: Topology): (number | undefined)[] {
  return model.events.map((ev, i) => {
    if (ev.kind !== 'transit-outage') return undefined;
    const t = topo.transits.findIndex((x) => x.name === ev.transit);
    if (t < 0)
      throw new CatchmentError(
        'SCENARIO_INVALID',
        `/events/${i}/transit: the configuration has no transit ${ev.transit} (it has ${topo.transits.map((x) => x.name).join(', ')})`,
      );
    return t;
  });
}

/** Marks the transits out at second t; true when that differs from what `down` held. */
export function transitsDownAt(
  model: ScenarioModel,
  outages: (number | undefined)[],
  t: number,
  down: Uint8Array,
): boolean {
  const was = down.slice();
  down.fill(0);
  model.events.forEach((ev, i) => {
    const tr = outages[i];
    if (tr !== undefined && t >= ev.atS && t < ev.endS) down[tr] = 1;
  });
  return down.some((d, i) => d !== was[i]);
}

/**
 * Each region's share of its country's load with some transits out: a country behind several
 * transits splits over the ones still up, by their weights; a country behind none left keeps its
 * shares, and its packets find no route (the route table has none through a transit that is out).
 */
export function regionSharesWith(topo: Topology, down: Uint8Array, out: Float64Array): void {
  const C = topo.regionStart.length - 1;
  for (let c = 0; c < C; c++) {
    let up = 0;
    for (let r = topo.regionStart[c]!; r < topo.regionStart[c + 1]!; r++)
      if (!down[topo.regionTransit[r]!]) up += topo.regionShare[r]!;
    for (let r = topo.regionStart[c]!; r < topo.regionStart[c + 1]!; r++) {
      const s = topo.regionShare[r]!;
      out[r] = up === 0 ? s : down[topo.regionTransit[r]!] ? 0 : s / up;
    }
  }
}

/** The resolvers a cache-flush event empties: each drawn with the event's share (deterministic by seed). */
export function flushedResolvers(model: ScenarioModel, pop: Population, event: number): Uint8Array {
  const share = model.events[event]!.share;
  return Uint8Array.from(pop.resolvers, (_, id) => (unit(hash32(model.seed, id, 0xf105, event)) < share ? 1 : 0));
}
