import type { SnapshotBody } from '@catchment/core';

export interface ProposedAction {
  kind: string;
  edge?: string;
  prefix?: string;
  params: Record<string, unknown>;
}

/** Which safety rule refuses an action, and why (DESIGN.md, safety rules). */
export interface Refusal {
  rule: string;
  message: string;
  details?: Record<string, unknown>;
}

export type CheckAction = (after: SnapshotBody, action: ProposedAction, before: SnapshotBody) => Refusal | undefined;

export const checkActionRules: CheckAction = () => undefined;
