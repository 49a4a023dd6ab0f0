import { agentReportStaleMs, observedHealth, type SnapshotObserved } from '@catchment/core';
import type { PredictedLoad } from '@catchment/safety';
import type { ControllerWorld } from '../model.ts';
import type { PlannedAction } from '../planner.ts';
import type { Stage } from '../stages.ts';

/**
 * What a step kind expects to happen once its actions are in place, checked at the end of its
 * verify window on what agents observe (issue 12): not "does the alert still fire" but "did the
 * change do what it was for". `unknown` is missing data (no report since the step, an agent
 * silent past its bound): the run holds and asks again, it never takes that as a verdict.
 */
export type EffectState = 'met' | 'failed' | 'unknown';

export interface Effect {
  state: EffectState;
  reason: string;
  details: Record<string, unknown>;
}

export interface EffectInput {
  world: ControllerWorld;
  edge: string;
  stage: Stage;
  /** What the stage wrote and predicted when it was applied (its run_steps row). */
  planned: PlannedAction[];
  predicted: { loadRps: number | null; movedRps: number; predictedLoads?: PredictedLoad[] } | null;
  appliedAt: Date;
  /** The signal when the stage was applied and now. */
  signal: { atApply: number | null; now: number | null };
}

export type EffectCheck = (input: EffectInput) => Effect;

/** Share of the predicted relief the edge's load must lose by default (verify.loadDrop). */
export const DEFAULT_LOAD_DROP = 0.5;

const met = (reason: string, details: Record<string, unknown> = {}): Effect => ({ state: 'met', reason, details });
const failed = (reason: string, details: Record<string, unknown> = {}): Effect => ({
  state: 'failed',
  reason,
  details,
});
const unknown = (reason: string, details: Record<string, unknown> = {}): Effect => ({
  state: 'unknown',
  reason,
  details,
});

/**
 * The edge's observation, if it is recent and newer than the step: else why it cannot tell.
 * Bodies without observations (built by hand) have nothing to check: `null` observation, no reason.
 */
function freshObservation(
  input: EffectInput,
): { observed: SnapshotObserved | null; problem: null } | { observed: null; problem: string } {
  const e = input.world.edges.find((x) => x.name === input.edge);
  if (!e?.observed) return { observed: null, problem: null };
  const now = input.world.now.getTime();
  const h = observedHealth(e.observed, now, agentReportStaleMs(input.world.settings));
  if (h.state === 'unknown') return { observed: null, problem: `${input.edge}: ${h.reason}` };
  const at = Date.parse(e.observed.reportedAt ?? '');
  if (!(at > input.appliedAt.getTime())) {
    return { observed: null, problem: `${input.edge}: no agent report since the step was applied` };
  }
  if (e.observed.exported === null) {
    return {
      observed: null,
      problem: `${input.edge}: exports unknown, ${e.observed.problems.join('; ') || 'speaker not readable'}`,
    };
  }
  return { observed: e.observed, problem: null };
}

/**
 * dns-shift and dsr-shed: the edge's load falls by at least `verify.loadDrop` of the relief the
 * stage predicted, measured on a load report newer than the stage; or the signal improved by
 * `verify.improveBy` (a load that grows with a flash crowd can hide a shift that works).
 */
export function loadFell(input: EffectInput): Effect {
  const { stage, edge, predicted } = input;
  const improveBy = stage.improveBy;
  const { atApply, now } = input.signal;
  if (improveBy !== undefined && atApply !== null && now !== null && atApply - now >= improveBy) {
    return met(`the signal improved by ${round(atApply - now)} (from ${round(atApply)} to ${round(now)})`);
  }
  const source = predicted?.predictedLoads?.find((p) => p.edge === edge);
  const before = source?.beforeRps ?? predicted?.loadRps ?? null;
  const expected =
    source && source.beforeRps !== null && source.afterRps !== null
      ? source.beforeRps - source.afterRps
      : (predicted?.movedRps ?? 0);
  if (before === null || !(expected > 0)) return met('nothing was predicted to move');
  const e = input.world.edges.find((x) => x.name === edge);
  if (!e || e.loadRps === null) return unknown(`${edge} has not reported its load`);
  if (!e.loadReportedAt || Date.parse(e.loadReportedAt) <= input.appliedAt.getTime()) {
    return unknown(`no load report of ${edge} since the step was applied`);
  }
  const share = stage.step.verify?.loadDrop ?? DEFAULT_LOAD_DROP;
  const fell = before - e.loadRps;
  const details = { beforeRps: before, nowRps: e.loadRps, predictedReliefRps: expected, share };
  const text = `${edge} load went from ${Math.round(before)} to ${Math.round(e.loadRps)} rps`;
  if (fell >= share * expected) {
    return met(`${text}: at least ${pct(share)} of the predicted ${Math.round(expected)} rps relief`, details);
  }
  return failed(`${text}: less than ${pct(share)} of the predicted ${Math.round(expected)} rps relief`, details);
}

/** withdraw-unicast: no established session of the edge's agents exports the prefix any more. */
export const prefixGone: EffectCheck = (input) => {
  const obs = freshObservation(input);
  if (obs.problem) return unknown(obs.problem);
  if (!obs.observed) return met('not observed (no agent observations in this state)');
  const still = prefixesOf(input.planned).filter((p) => obs.observed?.exported?.includes(p));
  if (still.length > 0) {
    return failed(`${input.edge} still exports ${still.join(', ')} on an established session`, { exported: still });
  }
  return met(`${input.edge} exports ${prefixesOf(input.planned).join(', ')} no more`);
};

/** communities: every exported route of the edge carries each community the stage set. */
export const communitiesOn: EffectCheck = (input) => {
  const obs = freshObservation(input);
  if (obs.problem) return unknown(obs.problem);
  if (!obs.observed) return met('not observed (no agent observations in this state)');
  const wanted = [...new Set(input.planned.flatMap((a) => strings(a.params.communities)))];
  const carried = obs.observed.communities;
  if (!carried) return unknown(`${input.edge}: its agents do not report communities`);
  const exported = obs.observed.exported ?? [];
  if (exported.length === 0) return failed(`${input.edge} exports no route to carry them`);
  const missing = exported.flatMap((prefix) =>
    wanted.filter((c) => !(carried[prefix] ?? []).includes(c)).map((c) => `${prefix} lacks ${c}`),
  );
  if (missing.length > 0) return failed(`${input.edge}: ${missing.join(', ')}`, { missing });
  return met(`${input.edge} exports its routes with ${wanted.join(' ')}`);
};

/** dsr-shed: the XDP maps hold the fraction (as the agent reports), then the load falls. */
export const dsrInMapsAndLoadFell: EffectCheck = (input) => {
  const obs = freshObservation(input);
  if (obs.problem) return unknown(obs.problem);
  const fraction = Math.max(
    0,
    ...input.planned.map((a) => (typeof a.params.fraction === 'number' ? a.params.fraction : 0)),
  );
  if (obs.observed) {
    const dsr = obs.observed.dsr;
    if (!dsr) return failed(`${input.edge}: no XDP DSR state reported`);
    // The maps hold parts per 65536: allow the rounding.
    if (!dsr.enabled || dsr.fraction + 1 / 65536 < fraction) {
      return failed(
        `${input.edge}: the XDP maps shed ${dsr.enabled ? pct(dsr.fraction) : 'nothing'}, the step set ${pct(fraction)}`,
        { observed: dsr, fraction },
      );
    }
  }
  return loadFell(input);
};

function prefixesOf(planned: PlannedAction[]): string[] {
  return planned.flatMap((a) => (a.prefix ? [a.prefix] : typeof a.params.prefix === 'string' ? [a.params.prefix] : []));
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const pct = (share: number) => `${Math.round(share * 1000) / 10} %`;
const round = (v: number) => Math.round(v * 1000) / 1000;
