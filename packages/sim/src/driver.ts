import type { SnapshotBody } from '@catchment/core';

/** An edge going down or coming back this second (a scenario event). */
export interface EdgeStateChange {
  edge: string;
  state: 'active' | 'down';
}

/**
 * What decides: given what the edges served each simulated second, it publishes snapshots.
 * The simulator never decides a step itself; a driver is the real controller (apps/cli
 * assembles it on PGlite), a scripted list of operator actions, or nothing at all.
 */
export interface Driver {
  /** The snapshot in force when the scenario starts. */
  start(at: Date): Promise<SnapshotBody>;
  /**
   * The end of simulated second `t` at `at`: the requests per second each edge served (in the
   * order of the edges of the snapshot `start` returned) and the edges whose state changed. A new snapshot when one was
   * published, else null.
   */
  second(t: number, at: Date, served: Float64Array, changes: EdgeStateChange[]): Promise<SnapshotBody | null>;
  /** Human-readable decisions taken so far (runs, stages, refusals), for the report. */
  log(): DriverLogEntry[];
  close(): Promise<void>;
}

export interface DriverLogEntry {
  t: number;
  text: string;
}
