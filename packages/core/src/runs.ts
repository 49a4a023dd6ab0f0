/**
 * States of playbook runs and of their steps (tables playbook_runs and run_steps),
 * shared by the controller (which drives them) and the API (which shows them and
 * records approvals).
 *
 * Run: triggered → acting (step N, stage S) ⇄ awaiting-approval → mitigated →
 * recovering (steps undone in reverse) → resolved; or aborted (by an operator).
 *
 * Approval contract (mode 'approve'): the controller inserts the run_steps row of the
 * next stage with state 'awaiting-approval' and its predicted loads; an operator
 * (through the API) sets it to 'approved' or 'rejected' and fills decided_by /
 * decided_at. The controller applies an approved stage at its next tick, after checking
 * the safety rules again; a rejected stage is skipped.
 */
export const RUN_STATES = [
  'triggered',
  'acting',
  'awaiting-approval',
  'mitigated',
  'recovering',
  'resolved',
  'aborted',
] as const;
export type RunState = (typeof RUN_STATES)[number];
export const OPEN_RUN_STATES: readonly RunState[] = [
  'triggered',
  'acting',
  'awaiting-approval',
  'mitigated',
  'recovering',
];

export const STEP_STATES = [
  'awaiting-approval',
  'approved',
  'rejected',
  /** The action is active. */
  'applied',
  /** Dry-run mode: planned and recorded, nothing changed. */
  'dry-run',
  /** A notify step: the message went out. */
  'sent',
  'refused',
  /** The signal improved before an operator decided. */
  'cancelled',
  /** A dns-shift stage replaced by the next one of its schedule (reinstated when that one is undone). */
  'superseded',
  /** Undone during recovery (or by an abort). */
  'reverted',
  /** Undone because its verification failed and the step says `onFail: rollback`. */
  'rolled-back',
] as const;
export type StepState = (typeof STEP_STATES)[number];
