import {
  type ActionKind,
  edgeUsable,
  headroomRps,
  isSheddingKind,
  type SheddingActionKind,
  settledLoadRps,
} from '@catchment/core';
import { loadTargets } from '@catchment/geo';
import { answerShare, pinnedBlocks } from './pinned.ts';
import type { LoadMove, Refusal, SafetyAction, SafetyEdge, SafetyWorld } from './types.ts';
import { COMMUNITIES_SHED_SHARE, edgeOf } from './world.ts';

/**
 * One prediction for every change (DNS shift, drain, withdrawal, communities, DSR shed,
 * or a combination of them on one edge): how much load leaves the edge and where it
 * lands. The API's operator actions and the controller's playbook steps both come here,
 * so the same change always has the same prediction.
 */

/** How changes are predicted; the controller's options default to these, and the API uses them. */
export interface EngineOptions {
  /** Shed load goes to at least this many targets when more exist (never onto one). */
  minTargets: number;
  /** Share of an edge's load that DNS steers (the rest arrives by anycast). */
  dnsSteerableShare: number;
}

export const ENGINE_DEFAULTS: EngineOptions = { minTargets: 2, dnsSteerableShare: 1 };

/** A change as someone proposes it: an operator's action, or one action of a playbook step. */
export interface Proposal {
  kind: ActionKind;
  edge: string | null;
  params: Record<string, unknown>;
  source: 'operator' | 'automation';
  /** True when the proposal ends an active action rather than adding one. */
  revert?: boolean;
  /** The run proposing it: its own action of the same kind is the one a stage supersedes. */
  runId?: number;
}

export interface TargetPrediction {
  edge: string;
  movedRps: number;
  loadRps: number | null;
  capacityRps: number;
  predictedUtilisation: number | null;
  threshold: number;
}

/** What a change is expected to do, as the run history and the operator's dry run show it. */
export interface Prediction {
  edge: string;
  loadRps: number | null;
  capacityRps: number;
  movedRps: number;
  /** Extra load that may move because DNS shifts whole client blocks (upper bound). */
  granularityRps: number;
  /** Load of the client blocks pinned to the edge, which a DNS shift leaves in place. */
  pinnedRps: number;
  targets: TargetPrediction[];
  confidence: 'model' | 'estimate';
}

/** Per affected edge: its load before and after the change (rps and utilisation). */
export interface PredictedLoad {
  edge: string;
  capacityRps: number;
  beforeRps: number | null;
  afterRps: number | null;
  beforeUtilisation: number | null;
  afterUtilisation: number | null;
}

export interface PredictionResult {
  prediction: Prediction;
  /** Moves per target (requests/s), summed over the proposals. */
  moves: LoadMove[];
  /** Proposal params with the targets the rule chose (what the controller writes). */
  params: Record<string, unknown>[];
  /** What the prediction itself cannot allow (unknown load, too few targets...). */
  refusals: Refusal[];
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const names = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The active action a proposal supersedes: the run's own of that kind, else the latest on the edge. */
export function supersededAction(world: SafetyWorld, p: Proposal): SafetyAction | undefined {
  const prefix = typeof p.params.prefix === 'string' ? p.params.prefix : null;
  const same = world.actions.filter(
    (a) => a.kind === p.kind && a.edge === p.edge && (p.kind !== 'withdraw-unicast' || a.prefix === prefix),
  );
  if (p.runId !== undefined) return same.find((a) => a.runId === p.runId && a.source === 'automation');
  return same.at(-1);
}

/** Splits `rps` over `targets` in proportion to `weight(target)`. */
export function spread(rps: number, targets: string[], weight: (name: string) => number): LoadMove[] {
  if (!(rps > 0) || targets.length === 0) return [];
  const total = targets.reduce((s, t) => s + weight(t), 0);
  if (total <= 0) return targets.map((t) => ({ edge: t, rps: rps / targets.length }));
  return targets.map((t) => ({ edge: t, rps: (rps * weight(t)) / total }));
}

/**
 * Largest share of the edge's DNS answers one client block carries: DNS shifts whole blocks.
 * Blocks in `held` (pinned there) do not move, so they are not counted as the largest.
 */
export function largestBlockShare(world: SafetyWorld, edge: string, held: ReadonlySet<string> = new Set()): number {
  const blocks = world.answers?.get(edge);
  if (!blocks || blocks.size === 0) return 0;
  let total = 0;
  let max = 0;
  for (const [block, n] of blocks) {
    total += n;
    if (!held.has(block)) max = Math.max(max, n);
  }
  return total > 0 ? max / total : 0;
}

/** The unicast prefixes of an edge still announced (no active withdrawal). */
export function announcedUnicast(world: SafetyWorld, edge: string): string[] {
  return world.prefixes
    .filter((p) => p.kind === 'unicast' && p.edge === edge)
    .map((p) => p.cidr)
    .filter((cidr) => !world.actions.some((a) => a.kind === 'withdraw-unicast' && a.prefix === cidr));
}

function refusal(reason: string, details: Record<string, unknown> = {}): Refusal {
  return { rule: 'capacity', reason, details };
}

/** The share of the edge's traffic a proposal takes away beyond what is already shed. */
function shedLevel(kind: SheddingActionKind, params: Record<string, unknown>): number {
  if (kind === 'dns-shift') return Math.min(1, Math.max(0, num(params.percent) / 100));
  if (kind === 'dsr-shed') return Math.min(1, Math.max(0, num(params.fraction)));
  return 1;
}

/**
 * Predicts a combination of proposals on one edge. Per kind:
 *  - dns-shift: the new share of the DNS-steerable load that no pin holds (pinned.ts;
 *    the measured load already excludes what an earlier stage shifted), plus the block
 *    granularity as an upper bound, onto the shift targets (packages/geo loadTargets, as
 *    DNS picks them);
 *  - withdraw-unicast: the withdrawn prefixes' share of the edge's load (by count of
 *    its announced unicast prefixes) onto the other announcers of the covering
 *    supernets, by capacity (catchments are not chosen);
 *  - communities: a low-confidence share (COMMUNITIES_SHED_SHARE) onto the targets;
 *  - dsr-shed: the new fraction of new flows onto the named targets, else onto the
 *    edges with a DSR address by the same target rule;
 *  - drain, force-down: all of the edge's load, where DNS would send it.
 * Every split is in proportion to headroom (the weights DNS and the DSR compiler use),
 * except the supernet's. Restores and reverts move nothing.
 */
export function predict(world: SafetyWorld, proposals: readonly Proposal[], opts: EngineOptions): PredictionResult {
  const edgeName = proposals[0]?.edge ?? '';
  const source = edgeOf(world, edgeName);
  const load = source?.loadRps ?? null;
  const prediction: Prediction = {
    edge: edgeName,
    loadRps: load,
    capacityRps: source?.capacityRps ?? 0,
    movedRps: 0,
    granularityRps: 0,
    pinnedRps: 0,
    targets: [],
    confidence: 'model',
  };
  const refusals: Refusal[] = [];
  const moves: LoadMove[] = [];
  const params = proposals.map((p) => ({ ...p.params }));
  if (!source) {
    if (proposals.some((p) => p.edge !== null)) refusals.push(refusal(`edge ${edgeName} does not exist`));
    return { prediction, moves, params, refusals };
  }
  const current = load ?? 0;
  const wanted = Math.min(opts.minTargets, Math.max(1, world.edges.length - 1));
  const byHeadroom = (n: string) => {
    const e = edgeOf(world, n);
    return e ? headroomRps(e) : 0;
  };
  const targetsFor = (rps: number, named: string[], filter?: (e: SafetyEdge) => boolean, checkMin = true) => {
    const targets = loadTargets(world.edges, source, rps, { named, min: wanted, ...(filter ? { filter } : {}) });
    if (named.length > 0) return [...named];
    if (checkMin && targets.length < wanted) {
      refusals.push(
        refusal(
          `only ${targets.length} target(s) with headroom for ${edgeName}; shed load goes to at least ${wanted}`,
          {
            candidates: targets.map((t) => t.name),
            minTargets: wanted,
          },
        ),
      );
    }
    return targets.map((t) => t.name).sort();
  };
  const shedding = proposals.filter((p) => !p.revert && isSheddingKind(p.kind));
  const sheds = shedding.filter((p) => {
    const kind = p.kind as SheddingActionKind;
    const before = supersededAction(world, p);
    return !before || kind === 'withdraw-unicast' || shedLevel(kind, p.params) > shedLevel(kind, before.params);
  });
  // Automation holds still without data (static stability): it does not act on a load nobody
  // knows. An operator may (a dead agent is a reason to shift, not to wait): nothing is moved
  // predictably then, and the dry run shows the load as unknown. This and humans-win are the
  // only rules that depend on who proposes the change.
  if (load === null && sheds.some((p) => p.source === 'automation')) {
    refusals.push({
      ...refusal(`${edgeName} has not reported its load: the load to move is unknown`, { edge: edgeName }),
      missingData: true,
    });
  }
  const add = (list: LoadMove[]) => {
    for (const m of list) {
      const at = moves.find((x) => x.edge === m.edge);
      if (at) at.rps += m.rps;
      else moves.push({ ...m });
    }
  };
  const shift = sheds.find((p) => p.kind === 'dns-shift');
  if (shift) {
    const previous = supersededAction(world, shift);
    const before = previous ? num(previous.params.percent) : 0;
    const share = before >= 100 ? 0 : Math.max(0, (num(shift.params.percent) - before) / (100 - before));
    // Pinned clients keep their answer whatever the shift: only the rest of the steerable load moves.
    const held = pinnedBlocks(world, edgeName);
    const steerable = current * opts.dnsSteerableShare;
    const pinned = steerable * answerShare(world, edgeName, held);
    const moved = (steerable - pinned) * share;
    const granularity = Math.max(
      0,
      Math.min(current - pinned - moved, current * largestBlockShare(world, edgeName, held) * opts.dnsSteerableShare),
    );
    const targets = targetsFor(moved + granularity, names(shift.params.targets));
    // The capacity rule judges the upper bound: whole blocks may move more than the share.
    add(spread(moved + granularity, targets, byHeadroom));
    params[proposals.indexOf(shift)] = { ...shift.params, targets };
    prediction.movedRps += moved;
    prediction.granularityRps = granularity;
    prediction.pinnedRps = pinned;
  }
  const withdrawn = sheds.filter((p) => p.kind === 'withdraw-unicast').map((p) => String(p.params.prefix));
  if (withdrawn.length > 0) {
    const announced = announcedUnicast(world, edgeName);
    const leaving = withdrawn.filter((p) => announced.includes(p));
    const moved = announced.length > 0 ? (current * leaving.length) / announced.length : 0;
    const announcers = new Set<string>();
    for (const cidr of leaving) {
      const supernet = world.prefixes.find((x) => x.cidr === cidr)?.supernet;
      for (const a of world.prefixes.find((p) => p.cidr === supernet)?.announcers ?? []) {
        const e = edgeOf(world, a);
        if (a !== edgeName && e && edgeUsable(e)) announcers.add(a);
      }
    }
    add(spread(moved, [...announcers].sort(), (n) => edgeOf(world, n)?.capacityRps ?? 0));
    prediction.movedRps += moved;
    prediction.confidence = 'estimate';
  }
  if (sheds.some((p) => p.kind === 'communities')) {
    const moved = current * COMMUNITIES_SHED_SHARE;
    add(spread(moved, targetsFor(moved, []), byHeadroom));
    prediction.movedRps += moved;
    prediction.confidence = 'estimate';
  }
  const dsr = sheds.find((p) => p.kind === 'dsr-shed');
  if (dsr) {
    const previous = supersededAction(world, dsr);
    const before = previous ? num(previous.params.fraction) : 0;
    const share = before >= 1 ? 0 : Math.max(0, (num(dsr.params.fraction) - before) / (1 - before));
    const moved = current * share;
    const targets = targetsFor(moved, names(dsr.params.targets), (e) => Boolean(e.dsrAddress));
    add(spread(moved, targets, byHeadroom));
    params[proposals.indexOf(dsr)] = { ...dsr.params, targets };
    prediction.movedRps += moved;
  }
  const emptying = proposals.find((p) => !p.revert && (p.kind === 'drain' || p.kind === 'force-down'));
  if (emptying && edgeUsable(source) && load !== null) {
    // DNS answers the edge's clients elsewhere: the nearest edges with headroom take them.
    add(spread(current, targetsFor(current, [], undefined, false), byHeadroom));
    prediction.movedRps += current;
  }
  // The watermarks follow the change (core settledLoadRps): as the edge's demand falls they
  // give blocks back, so the edge sheds less than the change alone moves. Targets are judged
  // on the change's own move (the larger, so the capacity rule errs on the safe side).
  const gross = Math.min(prediction.movedRps, current);
  prediction.movedRps =
    gross > 0
      ? Math.min(
          current,
          Math.max(0, settledLoadRps(source, current, current) - settledLoadRps(source, current, current - gross)),
        )
      : 0;
  prediction.targets = moves.map((m) => {
    const e = edgeOf(world, m.edge);
    const capacity = e?.capacityRps ?? 0;
    const l = e?.loadRps ?? null;
    return {
      edge: m.edge,
      movedRps: m.rps,
      loadRps: l,
      capacityRps: capacity,
      predictedUtilisation: l === null || capacity === 0 ? null : (l + m.rps) / capacity,
      threshold: e?.threshold ?? 0,
    };
  });
  return { prediction, moves, params, refusals };
}

/** The loads before and after on every edge a prediction touches: the source, then each target. */
export function predictedLoads(p: Prediction): PredictedLoad[] {
  const util = (rps: number | null, cap: number) => (rps === null || cap <= 0 ? null : rps / cap);
  const sourceAfter = p.loadRps === null ? null : Math.max(0, p.loadRps - p.movedRps);
  return [
    {
      edge: p.edge,
      capacityRps: p.capacityRps,
      beforeRps: p.loadRps,
      afterRps: sourceAfter,
      beforeUtilisation: util(p.loadRps, p.capacityRps),
      afterUtilisation: util(sourceAfter, p.capacityRps),
    },
    ...p.targets.map((t) => {
      const after = t.loadRps === null ? null : t.loadRps + t.movedRps;
      return {
        edge: t.edge,
        capacityRps: t.capacityRps,
        beforeRps: t.loadRps,
        afterRps: after,
        beforeUtilisation: util(t.loadRps, t.capacityRps),
        afterUtilisation: util(after, t.capacityRps),
      };
    }),
  ];
}
