import type { Snapshot } from '@catchment/core';

/**
 * Something the agent brings in line with each snapshot: the BGP speaker, the XDP
 * DSR maps, ... Each applier is idempotent (apply the same snapshot twice: no change)
 * and throws on failure; the agent counts the error and keeps running the others.
 */
export interface Applier {
  readonly name: string;
  apply(snapshot: Snapshot, edgeName: string): Promise<void>;
  /** Called once when the agent stops (never to withdraw anything). */
  close?(): Promise<void>;
}
