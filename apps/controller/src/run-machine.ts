import type { PlaybookMode, RunState, StepState } from '@catchment/core';
import type { SignalLevel } from '@catchment/safety';
import type { Static } from 'typebox';
import type { Stage } from './stages.ts';
import type { Effect } from './steps/effects.ts';

/**
 * The run state machine, as a pure function: given what the run remembers, the state
 * of its stages and the latest signal, what is the one next thing to do? The executor
 * (run-executor.ts) carries the decision out in one transaction and asks again, so a
 * crash between two decisions loses nothing and repeats nothing.
 *
 *   triggered → acting (stage i applied, verifying) → effect checked → [escalate: stage i+1] …
 *   a stage whose effect failed stays (escalate) or is rolled back first, as its step says;
 *   a refused stage is asked again with backoff (missing data: for as long as the signal holds;
 *   a rule's refusal: a few times, then the run escalates past it); missing data holds the run
 *   acting → mitigated (signal under the enter threshold)
 *   mitigated/recovering → recovering: undo the top stage once the signal held under
 *     the exit threshold for the stage's dwell, and the last change is ≥ dwell old
 *   mitigated/recovering → acting again when the signal goes over the enter threshold
 *   recovering → resolved when nothing is left applied
 */
export interface Memory {
  /** Bumped by every transition; part of each action's idempotency key. */
  seq: number;
  /** When the last stage was applied or undone (start of its verify window / dwell). */
  phaseSince: string;
  /** Since when the signal has been under the exit threshold (null: it is not). */
  exitSince: string | null;
  valueAtPhase: number | null;
  /** improveBy already granted its one extra verify window for the current stage. */
  extended: boolean;
  /** Index of the next stage to consider when escalating. */
  cursor: number;
  exhaustedNotified: boolean;
  blockedNotified: boolean;
  /** Stage indexes whose effect was judged at the end of their verify window (absent: none). */
  verified?: number[];
  /** The refused stage at the cursor is asked again at `at`; `attempts` refusals so far. */
  retry?: { index: number; attempts: number; at: string } | null;
  /** Why the run holds still now, and since when (cleared by the next decision that acts). */
  hold?: { reason: string; since: string } | null;
}

export function initialMemory(now: Date, value: number | null): Memory {
  return {
    seq: 0,
    phaseSince: now.toISOString(),
    exitSince: null,
    valueAtPhase: value,
    extended: false,
    cursor: 0,
    exhaustedNotified: false,
    blockedNotified: false,
    verified: [],
    retry: null,
    hold: null,
  };
}

export interface StageStatus {
  state: StepState;
  startedAt: Date;
}

export interface MachineView {
  state: RunState;
  mode: Static<typeof PlaybookMode>;
  memory: Memory;
  stages: Stage[];
  /** Latest run_steps row of each stage, by stage index. */
  statuses: Map<number, StageStatus>;
  level: SignalLevel;
  value: number | null;
  now: Date;
  /** Humans win: automation is frozen for the edge, or the edge has an operator override. */
  blocked: boolean;
  /**
   * An applied withdraw-unicast stage whose prefix lost its covering route (coverage
   * before withdrawal holds only while the supernet's other announcers do): it is
   * undone at once, before anything else, without waiting for dwell.
   */
  uncovered?: number;
  /**
   * The effect of the top active stage as its step kind checks it (steps/effects.ts), judged
   * once its verify window is over; absent in dry-run mode (nothing was changed to check).
   */
  effect?: Effect;
}

export type Decision =
  | { type: 'hold'; reason: string; memory?: Partial<Memory> }
  | { type: 'apply'; index: number }
  | { type: 'propose'; index: number }
  | { type: 'cancel'; index: number }
  | { type: 'skip'; index: number }
  | { type: 'verified'; index: number; effect: Effect; rollback: boolean }
  | { type: 'extend' }
  | { type: 'exhausted' }
  | { type: 'mitigated' }
  | { type: 'reescalate' }
  | { type: 'undo'; index: number; emergency?: boolean }
  | { type: 'resolve' };

const ACTIVE: ReadonlySet<StepState> = new Set(['applied', 'dry-run']);
const PENDING: ReadonlySet<StepState> = new Set(['awaiting-approval', 'approved', 'rejected']);

/** Stage indexes whose effect is in place, ascending. */
export function activeStages(view: Pick<MachineView, 'statuses'>): number[] {
  return [...view.statuses.entries()]
    .filter(([, s]) => ACTIVE.has(s.state))
    .map(([i]) => i)
    .sort((a, b) => a - b);
}

/** First stage of the step after the one holding stage `index` (skips the rest of a schedule). */
export function nextStepStart(stages: Stage[], index: number): number {
  const position = stages[index]?.position ?? -1;
  const next = stages.findIndex((s) => s.position > position);
  return next < 0 ? stages.length : next;
}

function ms(iso: string): number {
  return new Date(iso).getTime();
}

export function decide(view: MachineView): Decision {
  const { memory: m, now, level } = view;
  const t = now.getTime();
  if (view.state === 'resolved' || view.state === 'aborted') return { type: 'hold', reason: 'run ended' };
  // Re-announcing a prefix that lost its last covering route beats even a freeze: it only restores reachability.
  if (view.uncovered !== undefined && activeStages(view).includes(view.uncovered))
    return { type: 'undo', index: view.uncovered, emergency: true };
  if (level === 'unknown') return { type: 'hold', reason: 'signal unknown: holding still' };
  if (view.blocked) return { type: 'hold', reason: 'an operator froze automation or overrode the edge' };
  const exitPatch: Partial<Memory> | undefined =
    level === 'under'
      ? m.exitSince === null
        ? { exitSince: now.toISOString() }
        : undefined
      : m.exitSince !== null
        ? { exitSince: null }
        : undefined;
  const hold = (reason: string): Decision =>
    exitPatch ? { type: 'hold', reason, memory: exitPatch } : { type: 'hold', reason };
  const active = activeStages(view);
  const top = active.at(-1);

  if (view.state === 'triggered' || view.state === 'acting' || view.state === 'awaiting-approval') {
    const status = view.statuses.get(m.cursor);
    if (status && PENDING.has(status.state)) {
      const index = m.cursor;
      if (level !== 'over') return { type: 'cancel', index };
      if (status.state === 'approved') return { type: 'apply', index };
      if (status.state === 'rejected') return { type: 'skip', index };
      return hold('awaiting approval');
    }
    if (level !== 'over') return { type: 'mitigated' };
    if (top !== undefined) {
      const stage = view.stages[top];
      if (stage && t - ms(m.phaseSince) < stage.verifyMs) return hold('verifying the current stage');
      if (stage && view.effect && !(m.verified ?? []).includes(top)) {
        // Missing data is no verdict: hold at this step until the agents report again.
        if (view.effect.state === 'unknown') return hold(`cannot verify the current stage: ${view.effect.reason}`);
        const rollback = view.effect.state === 'failed' && stage.step.verify?.onFail === 'rollback';
        return { type: 'verified', index: top, effect: view.effect, rollback };
      }
      if (
        stage?.improveBy !== undefined &&
        !m.extended &&
        m.valueAtPhase !== null &&
        view.value !== null &&
        m.valueAtPhase - view.value >= stage.improveBy
      ) {
        return { type: 'extend' };
      }
    }
    if (m.cursor >= view.stages.length) {
      return m.exhaustedNotified ? hold('every step is in place') : { type: 'exhausted' };
    }
    const retry = m.retry;
    if (retry && retry.index === m.cursor && t < ms(retry.at)) {
      return hold(`stage refused ${retry.attempts} time(s): asking again at ${retry.at}`);
    }
    const next = view.stages[m.cursor];
    if (view.mode === 'approve' && next && next.step.kind !== 'notify') return { type: 'propose', index: m.cursor };
    return { type: 'apply', index: m.cursor };
  }

  // mitigated or recovering
  if (level === 'over') return { type: 'reescalate' };
  if (level === 'between') return hold('signal between the exit and enter thresholds');
  if (top === undefined) return { type: 'resolve' };
  const stage = view.stages[top];
  const dwell = stage?.dwellMs ?? 0;
  const exitSince = m.exitSince === null ? t : ms(m.exitSince);
  if (t - exitSince >= dwell && t - ms(m.phaseSince) >= dwell) return { type: 'undo', index: top };
  return hold('dwell: waiting before undoing the next stage');
}
