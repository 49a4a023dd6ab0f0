import { isSheddingKind, type SheddingActionKind } from '@catchment/core';
import type { AnnouncementChange } from '@catchment/routing';
import { changeRules } from './evaluate.ts';
import { checkOverride, isOverrideKind } from './overrides.ts';
import {
  ENGINE_DEFAULTS,
  type EngineOptions,
  type PredictedLoad,
  type Prediction,
  type Proposal,
  predict,
  predictedLoads,
  supersededAction,
} from './predict.ts';
import { checkRouteBudget } from './route-budget.ts';
import { announcedBy, checkRoutes } from './routes.ts';
import type { Change, LoadMove, Refusal, SafetyWorld } from './types.ts';

/** The one verdict on a change, for the API's operator actions and the controller's playbook steps. */
export interface Verdict {
  /** Empty: the change may go ahead. The first is what the API names in SAFETY_REFUSED. */
  refusals: Refusal[];
  prediction: Prediction;
  /** Per affected edge, before and after: what the dry run shows and the run history records. */
  predictedLoads: PredictedLoad[];
  /** Total moves per target edge. */
  moves: LoadMove[];
  /** The proposals' params with the targets the prediction chose (what gets written). */
  params: Record<string, unknown>[];
  /** The shedding changes the rules judged. */
  changes: Change[];
}

const level = (kind: SheddingActionKind, p: Record<string, unknown>) =>
  kind === 'dns-shift' ? Number(p.percent) || 0 : kind === 'dsr-shed' ? Number(p.fraction) || 0 : 1;

/** A shedding proposal as the rules see it: shed or restore, what it replaces. */
function changeOf(world: SafetyWorld, p: Proposal, params: Record<string, unknown>): Change | undefined {
  if (p.edge === null || !isSheddingKind(p.kind)) return undefined;
  const kind = p.kind;
  const prefix = typeof p.params.prefix === 'string' ? p.params.prefix : undefined;
  const current = supersededAction(world, p);
  const shed =
    !p.revert && (kind === 'withdraw-unicast' || !current || level(kind, p.params) > level(kind, current.params));
  return {
    kind,
    edge: p.edge,
    source: p.source,
    direction: shed ? 'shed' : 'restore',
    params: p.revert ? { ...params, percent: 0, fraction: 0 } : params,
    moves: [],
    ...(prefix ? { prefix } : {}),
    ...(current ? { replaces: current } : {}),
  };
}

/**
 * Judges a change (one operator action, or the actions of one playbook step; all on
 * one edge) against the world: predicts it once (`predict`), then evaluates every
 * safety rule on (world, change, prediction): route budget and no-ops, humans win,
 * blast radius, service answers, capacity with the predicted moves, connection
 * safety; overrides as the shedding of a whole edge; coverage and last routes by
 * @catchment/routing for everything the change withdraws, judged together.
 */
export function judge(
  world: SafetyWorld,
  proposals: readonly Proposal[],
  opts: EngineOptions = ENGINE_DEFAULTS,
): Verdict {
  const result = predict(world, proposals, opts);
  // The order the API names the first of: route budget and no-ops, routes, the prediction, the rest.
  const budget: Refusal[] = [];
  const rules: Refusal[] = [];
  const changes: Change[] = [];
  const withdrawals: AnnouncementChange[] = [];
  let movesGiven = false;
  proposals.forEach((p, i) => {
    if (p.edge === null) return;
    if (isOverrideKind(p.kind)) {
      rules.push(
        ...checkOverride(world, { kind: p.kind, edge: p.edge, revert: p.revert ?? false, moves: result.moves }),
      );
      if (p.kind === 'force-down' && !p.revert) withdrawals.push(...announcedBy(world, p.edge));
      return;
    }
    const change = changeOf(world, p, result.params[i] ?? p.params);
    if (!change) return;
    // The combination's moves are judged once, on its first shed.
    if (change.direction === 'shed' && !movesGiven) {
      change.moves = result.moves;
      movesGiven = true;
    }
    changes.push(change);
    const found = checkRouteBudget(world, change);
    budget.push(...found);
    rules.push(...changeRules(world, change));
    if (change.kind === 'withdraw-unicast' && change.direction === 'shed' && change.prefix) {
      if (!found.some((r) => r.rule === 'no-op'))
        withdrawals.push({ edge: change.edge, prefix: change.prefix, state: 'withdrawn' });
    }
  });
  return {
    refusals: [...budget, ...checkRoutes(world, withdrawals), ...result.refusals, ...rules],
    prediction: result.prediction,
    predictedLoads: predictedLoads(result.prediction),
    moves: result.moves,
    params: result.params,
    changes,
  };
}
