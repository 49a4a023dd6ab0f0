import type { Db, RunRow, StepRow } from '@catchment/db';
import type { EngineOptions, SignalLevel } from '@catchment/safety';
import type { ControllerMetrics } from './metrics.ts';
import type { ControllerWorld } from './model.ts';
import type { Notifier, NotifyEvent } from './notifier.ts';
import type { Memory, StageStatus } from './run-machine.ts';
import type { PlaybookRow } from './run-store.ts';
import type { Stage } from './stages.ts';

/** What the executor's parts share: the tick's context and the run being advanced. */
export interface Reading {
  level: SignalLevel;
  value: number | null;
}

export interface ExecutorContext {
  db: Db;
  now: Date;
  actor: string;
  world: ControllerWorld;
  /** Reloads the world after a change (the next decision of the same tick sees it). */
  reloadWorld(): Promise<ControllerWorld>;
  notifier: Notifier;
  metrics: ControllerMetrics;
  /** How changes are predicted (packages/safety's EngineOptions, the API uses the defaults). */
  planner: EngineOptions;
  /** Lifetime of an automated action; the leader renews it while the run is open. */
  actionTtlMs: number;
  /** How a refused stage is asked again: backoff from baseMs doubling to maxMs; a rule's refusal `attempts` times. */
  retry: StageRetry;
  /** Test hook: called inside the transaction after a stage's actions are written. */
  faults?: { afterActionsWritten?: (runId: number, stage: Stage) => void | Promise<void> };
}

export interface StageRetry {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export interface LoadedRun {
  row: RunRow;
  playbook: PlaybookRow;
  edge: string;
  stages: Stage[];
  steps: StepRow[];
}

export function stepOf(run: LoadedRun, stage: Stage): StepRow | undefined {
  return run.steps.find((s) => s.position === stage.position && s.stage === stage.stage);
}

export function statusesOf(run: LoadedRun): Map<number, StageStatus> {
  const out = new Map<number, StageStatus>();
  for (const st of run.stages) {
    const row = stepOf(run, st);
    if (row) out.set(st.index, { state: row.state as StageStatus['state'], startedAt: row.startedAt });
  }
  return out;
}

export function notify(
  ctx: ExecutorContext,
  run: LoadedRun,
  state: string,
  event: NotifyEvent,
  text: string,
  details?: Record<string, unknown>,
) {
  ctx.notifier.notify({
    event,
    text,
    run: { id: run.row.id, playbook: run.playbook.name, edge: run.edge, state, mode: run.row.mode },
    ...(details ? { details } : {}),
  });
  ctx.metrics.notifications.inc({ event });
}

export function describe(stage: Stage): string {
  const s = stage.step;
  if (s.kind === 'dns-shift') return `dns-shift ${stage.percent} %`;
  if (s.kind === 'communities') return `communities ${s.intents.join(', ')} via ${s.transit ?? 'every transit'}`;
  if (s.kind === 'dsr-shed') return `dsr-shed ${s.fraction}`;
  return s.kind;
}

/** Observed loads of the source edge and the stage's predicted targets, now (and the stage's verification). */
export function observe(ctx: ExecutorContext, run: LoadedRun, step: StepRow | undefined): Record<string, unknown> {
  const predicted = (step?.predicted ?? {}) as { targets?: { edge: string }[] };
  const load = (name: string) => {
    const e = ctx.world.edges.find((x) => x.name === name);
    return {
      edge: name,
      loadRps: e?.loadRps ?? null,
      utilisation: e && e.loadRps !== null ? e.loadRps / e.capacityRps : null,
    };
  };
  // The stage's verification (stage-verify.ts) stays on its record whatever happens to it next.
  const verification = (step?.observed as { verification?: unknown } | null | undefined)?.verification;
  return {
    at: ctx.now.toISOString(),
    source: load(run.edge),
    targets: (predicted.targets ?? []).map((t) => load(t.edge)),
    ...(verification ? { verification } : {}),
  };
}

/** The memory after a decision that acts: it no longer holds (unless the patch says why it does). */
export function next(memory: Memory, patch: Partial<Memory>): Memory {
  return { ...memory, hold: null, ...patch, seq: memory.seq + 1 };
}
