import type { Snapshot } from '@catchment/core';

/**
 * Something the agent brings in line with each snapshot: the BGP speaker, the XDP
 * DSR maps, ... Each applier is idempotent (apply the same snapshot twice: no change)
 * and throws on failure; the agent counts the error and keeps running the others.
 */
export interface Applier {
  /** For logs and the reconcile_errors_total{stage} label; default: the class name. */
  readonly name?: string;
  /** What it returns is for the applier's own callers (e.g. XdpDsrApplier's summary). */
  apply(snapshot: Snapshot, edgeName: string): Promise<unknown>;
  /** The state it applied last (reported to the API as observed state); null before any. */
  state?(): Record<string, unknown> | null;
  /** Called once when the agent stops (never to withdraw anything). */
  close?(): Promise<void>;
}
