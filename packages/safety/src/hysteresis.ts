import type { Refusal } from './types.ts';

/**
 * Safety rule 5, hysteresis: a signal is `over` at or above its enter threshold,
 * `under` at or below its (lower) exit threshold, and `between` in the band, where
 * nothing changes: no escalation, no recovery. Unknown (stale, missing) is its own
 * state, in which automation holds still (static stability).
 */
export type SignalLevel = 'over' | 'between' | 'under' | 'unknown';

export function classify(value: number | null | undefined, enter: number, exit: number): SignalLevel {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'unknown';
  if (value >= enter) return 'over';
  if (value <= Math.min(exit, enter)) return 'under';
  return 'between';
}

/** Minimum dwell: a step stays in place at least `dwellMs` before it is undone or changed again. */
export function checkDwell(since: Date, dwellMs: number, now: Date, what: string): Refusal[] {
  const held = now.getTime() - since.getTime();
  if (held >= dwellMs) return [];
  return [
    {
      rule: 'dwell',
      reason: `${what} has been in place ${Math.round(held / 1000)} s of its minimum ${Math.round(dwellMs / 1000)} s`,
      details: { since: since.toISOString(), dwellMs, heldMs: held },
    },
  ];
}

/** Recovery starts only once the signal has stayed under its exit threshold for the dwell time. */
export function checkExitHeld(exitSince: Date | null, dwellMs: number, now: Date): Refusal[] {
  if (exitSince === null) {
    return [{ rule: 'hysteresis', reason: 'the signal is not under its exit threshold', details: {} }];
  }
  const held = now.getTime() - exitSince.getTime();
  if (held >= dwellMs) return [];
  return [
    {
      rule: 'hysteresis',
      reason: `the signal has been under its exit threshold ${Math.round(held / 1000)} s of the ${Math.round(dwellMs / 1000)} s dwell`,
      details: { exitSince: exitSince.toISOString(), dwellMs },
    },
  ];
}
