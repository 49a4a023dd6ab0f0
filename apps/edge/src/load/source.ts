/**
 * Where an edge's load comes from. `read()` yields the load in requests per second, or
 * undefined while there is no rate yet (the first sample of a counter); it throws when the
 * source cannot be read (unreachable, metric missing, malformed): the agent then reports
 * no load rather than a made-up one.
 */
export interface LoadSource {
  /** Short name reported with the load and used as the metrics' `source` label (prometheus, xdp). */
  readonly kind: string;
  /** For logs and /status: what exactly is read (URL and selector, counters). */
  readonly description: string;
  read(): Promise<number | undefined>;
}

/** What the agent reports: the API stores `rps` in edge_loads (apps/api routes/reports.ts). */
export interface EdgeLoad {
  rps: number;
  source: string;
  /** ISO time of the read the rate ends at. */
  sampledAt: string;
}
