import type { SheddingActionKind } from '@catchment/core';
import { nearestWithRoom } from '@catchment/geo';
import {
  type Change,
  COMMUNITIES_SHED_SHARE,
  edgeOf,
  edgeUsable,
  headroomRps,
  type LoadMove,
  type Refusal,
  type SafetyAction,
} from '@catchment/safety';
import type { ControllerWorld } from './model.ts';
import type { Stage } from './stages.ts';

/** One action row the stage will write. */
export interface PlannedAction {
  kind: SheddingActionKind;
  edge: string;
  prefix?: string;
  params: Record<string, unknown>;
}

export interface TargetPrediction {
  edge: string;
  movedRps: number;
  loadRps: number | null;
  capacityRps: number;
  predictedUtilisation: number | null;
  threshold: number;
}

/** What the planner expects a stage to do: visible on the run before and after it acts. */
export interface Prediction {
  edge: string;
  loadRps: number | null;
  capacityRps: number;
  movedRps: number;
  /** Extra load that may move because DNS shifts whole client blocks (upper bound). */
  granularityRps: number;
  targets: TargetPrediction[];
  confidence: 'model' | 'estimate';
}

export interface Plan {
  actions: PlannedAction[];
  /** The changes the safety rules judge (one per action). */
  changes: Change[];
  prediction: Prediction;
  /** Refusals found by the planner itself (no targets, no prefix...). */
  refusals: Refusal[];
}

export interface PlannerOptions {
  /** Shed load goes to at least this many targets when more exist (never onto one). */
  minTargets: number;
  /** Share of an edge's load that DNS steers (the rest arrives by anycast). */
  dnsSteerableShare: number;
}

/** Candidate targets for shed load: other usable edges with a known load and headroom, not being shed. */
export function candidateTargets(world: ControllerWorld, edge: string, need?: (name: string) => boolean): string[] {
  return world.edges
    .filter((e) => e.name !== edge && edgeUsable(e) && e.loadRps !== null && headroomRps(e) > 0)
    .filter((e) => !world.actions.some((a) => a.edge === e.name && a.kind !== 'freeze'))
    .filter((e) => (need ? need(e.name) : true))
    .map((e) => e.name)
    .sort();
}

/**
 * Of the candidate targets, the nearest to the shed edge with room below their thresholds for
 * the moved load (packages/geo's rule, shared with DNS shifts). Without coordinates, all.
 */
export function nearestCovering(
  world: ControllerWorld,
  edge: string,
  candidates: string[],
  rps: number,
  min: number,
): string[] {
  const where = new Map(world.body?.edges.map((e) => [e.name, e]) ?? []);
  const from = where.get(edge);
  if (!from) return candidates;
  const placed = candidates.flatMap((name) => {
    const at = where.get(name);
    const e = edgeOf(world, name);
    if (!at || !e) return [];
    return [{ name, lat: at.lat, lon: at.lon, room: Math.max(0, e.threshold * e.capacityRps - (e.loadRps ?? 0)) }];
  });
  return nearestWithRoom(from, placed, rps, min).map((c) => c.name);
}

/** Splits `rps` over `targets` in proportion to `weight(target)`. */
export function spread(rps: number, targets: string[], weight: (name: string) => number): LoadMove[] {
  const total = targets.reduce((s, t) => s + weight(t), 0);
  if (total <= 0) return targets.map((t) => ({ edge: t, rps: rps / Math.max(1, targets.length) }));
  return targets.map((t) => ({ edge: t, rps: (rps * weight(t)) / total }));
}

function predictTargets(world: ControllerWorld, moves: LoadMove[]): TargetPrediction[] {
  return moves.map((m) => {
    const e = edgeOf(world, m.edge);
    const capacity = e?.capacityRps ?? 0;
    const load = e?.loadRps ?? null;
    return {
      edge: m.edge,
      movedRps: m.rps,
      loadRps: load,
      capacityRps: capacity,
      predictedUtilisation: load === null || capacity === 0 ? null : (load + m.rps) / capacity,
      threshold: e?.threshold ?? 0,
    };
  });
}

/**
 * Largest share of the edge's DNS answers that one client block carries: DNS shifts
 * whole blocks, so the share actually moved may exceed the schedule by this much.
 */
export function largestBlockShare(world: ControllerWorld, edge: string): number {
  const blocks = world.traffic.answers.get(edge);
  if (!blocks || blocks.size === 0) return 0;
  let total = 0;
  let max = 0;
  for (const n of blocks.values()) {
    total += n;
    max = Math.max(max, n);
  }
  return total > 0 ? max / total : 0;
}

/** The active automated action of this run and kind on the edge (a stage supersedes it). */
export function runActionOf(
  world: ControllerWorld,
  runId: number,
  kind: SheddingActionKind,
  edge: string,
): SafetyAction | undefined {
  return world.actions.find(
    (a) => a.runId === runId && a.kind === kind && a.edge === edge && a.source === 'automation',
  );
}

function refusal(reason: string, details: Record<string, unknown> = {}): Refusal {
  return { rule: 'capacity', reason, details };
}

/**
 * Plans one stage on `edge`: which actions it writes, how much load it moves, and
 * where; spread over several targets in proportion to their headroom. The capacity
 * and other safety rules then judge the plan's changes.
 */
export function planStage(
  world: ControllerWorld,
  runId: number,
  edge: string,
  stage: Stage,
  opts: PlannerOptions,
): Plan {
  const source = edgeOf(world, edge);
  const load = source?.loadRps ?? null;
  const prediction: Prediction = {
    edge,
    loadRps: load,
    capacityRps: source?.capacityRps ?? 0,
    movedRps: 0,
    granularityRps: 0,
    targets: [],
    confidence: 'model',
  };
  const refusals: Refusal[] = [];
  if (!source) {
    return { actions: [], changes: [], prediction, refusals: [refusal(`edge ${edge} does not exist`)] };
  }
  if (load === null) {
    refusals.push(refusal(`${edge} has not reported its load: the load to move is unknown`, { edge }));
  }
  const current = load ?? 0;
  const byHeadroom = (name: string) => {
    const e = edgeOf(world, name);
    return e ? headroomRps(e) : 0;
  };
  const pickTargets = (rps: number, explicit: string[] | undefined, need?: (n: string) => boolean) => {
    const wanted = Math.min(opts.minTargets, Math.max(1, world.edges.length - 1));
    const targets =
      explicit && explicit.length > 0
        ? explicit
        : nearestCovering(world, edge, candidateTargets(world, edge, need), rps, wanted);
    if (!explicit?.length && targets.length < wanted) {
      refusals.push(
        refusal(`only ${targets.length} target(s) with headroom for ${edge}; shed load goes to at least ${wanted}`, {
          candidates: targets,
          minTargets: wanted,
        }),
      );
    }
    return targets;
  };
  const step = stage.step;
  const actions: PlannedAction[] = [];
  const changes: Change[] = [];
  let moves: LoadMove[] = [];

  if (step.kind === 'dns-shift') {
    const percent = stage.percent ?? 0;
    const previous = runActionOf(world, runId, 'dns-shift', edge);
    const before = previous ? Number(previous.params.percent) || 0 : 0;
    // The measured load already excludes what earlier stages shifted away.
    const share = before >= 100 ? 0 : (percent - before) / (100 - before);
    const moved = Math.max(0, current * share * opts.dnsSteerableShare);
    const granularity = Math.min(current - moved, current * largestBlockShare(world, edge) * opts.dnsSteerableShare);
    const targets = pickTargets(moved + Math.max(0, granularity), undefined);
    moves = spread(moved + Math.max(0, granularity), targets, byHeadroom);
    prediction.movedRps = moved;
    prediction.granularityRps = Math.max(0, granularity);
    const params = { percent, targets };
    actions.push({ kind: 'dns-shift', edge, params });
    changes.push({
      kind: 'dns-shift',
      edge,
      source: 'automation',
      direction: 'shed',
      params,
      moves,
      ...(previous ? { replaces: previous } : {}),
    });
  } else if (step.kind === 'withdraw-unicast') {
    const owned = world.prefixes.filter((p) => p.kind === 'unicast' && p.edge === edge).map((p) => p.cidr);
    const listed = step.prefixes && step.prefixes.length > 0 ? step.prefixes : owned;
    const prefixes = listed.filter((p) => !world.actions.some((a) => a.kind === 'withdraw-unicast' && a.prefix === p));
    if (prefixes.length === 0)
      refusals.push({
        rule: 'coverage',
        reason: `${edge} has no announced unicast prefix to withdraw`,
        details: { edge },
      });
    // Traffic to the unicast addresses now follows the covering supernet: its other
    // announcers take it, in proportion to their capacity (catchments are not chosen).
    const announcers = new Set<string>();
    for (const cidr of prefixes) {
      const sup = world.prefixes.find((p) => p.cidr === world.prefixes.find((x) => x.cidr === cidr)?.supernet);
      for (const a of sup?.announcers ?? []) if (a !== edge) announcers.add(a);
    }
    const moved = current;
    moves = spread(moved, [...announcers], (n) => edgeOf(world, n)?.capacityRps ?? 0);
    prediction.movedRps = moved;
    prediction.confidence = 'estimate';
    prefixes.forEach((prefix, i) => {
      const params = { prefix };
      actions.push({ kind: 'withdraw-unicast', edge, prefix, params });
      changes.push({
        kind: 'withdraw-unicast',
        edge,
        source: 'automation',
        direction: 'shed',
        params,
        prefix,
        moves: i === 0 ? moves : [],
      });
    });
  } else if (step.kind === 'communities') {
    // Each transit's values go to that transit's sessions only (one action per transit).
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
    const moved = current * COMMUNITIES_SHED_SHARE;
    const targets = pickTargets(moved, undefined);
    moves = spread(moved, targets, byHeadroom);
    prediction.movedRps = moved;
    prediction.confidence = 'estimate';
    // On every announcement of the edge (the compiler's default without `prefix`).
    let first = true;
    for (const [transit, communities] of perTransit) {
      const params = { communities, transit };
      actions.push({ kind: 'communities', edge, params });
      changes.push({
        kind: 'communities',
        edge,
        source: 'automation',
        direction: 'shed',
        params,
        moves: first ? moves : [],
      });
      first = false;
    }
  } else if (step.kind === 'dsr-shed') {
    const moved = current * step.fraction;
    const targets = pickTargets(moved, step.targets, (n) => Boolean(edgeOf(world, n)?.dsrAddress));
    moves = spread(moved, targets, byHeadroom);
    prediction.movedRps = moved;
    const previous = runActionOf(world, runId, 'dsr-shed', edge);
    // The compiler weights the named targets by their headroom, as the prediction does.
    const params = { fraction: step.fraction, targets };
    actions.push({ kind: 'dsr-shed', edge, params });
    changes.push({
      kind: 'dsr-shed',
      edge,
      source: 'automation',
      direction: 'shed',
      params,
      moves,
      ...(previous ? { replaces: previous } : {}),
    });
  }
  prediction.targets = predictTargets(world, moves);
  return { actions, changes, prediction, refusals };
}
