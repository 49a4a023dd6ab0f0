/** One edge over a run: its load per second and what the strategy table reads from it. */
export interface EdgeResult {
  name: string;
  capacityRps: number;
  threshold: number;
  /** Requests per second served, one value per simulated second. */
  load: Float32Array;
  peakUtilisation: number;
  /** Seconds with utilisation over the edge's SLO threshold / over its capacity. */
  overThresholdSeconds: number;
  overloadSeconds: number;
  /** Requests beyond capacity, summed over the run. */
  excessRequests: number;
  /** From the first second over the threshold to the first second after the last one (null: never over). */
  timeToReliefS: number | null;
  relieved: boolean;
  /** Connections in flight at this edge whose packets a route change sent elsewhere. */
  connectionsBroken: number;
}

/** Seconds over the threshold and over capacity, excess requests, peak and time to relief of one load series. */
export function edgeSummary(
  name: string,
  cap: number,
  threshold: number,
  series: Float32Array,
): Omit<EdgeResult, 'connectionsBroken'> {
  const T = series.length;
  let over = 0;
  let overload = 0;
  let excess = 0;
  let firstOver = -1;
  let lastOver = -1;
  let peak = 0;
  for (let t = 0; t < T; t++) {
    const u = series[t]! / cap;
    if (u > peak) peak = u;
    if (u > threshold) {
      over++;
      if (firstOver < 0) firstOver = t;
      lastOver = t;
    }
    if (u > 1) {
      overload++;
      excess += series[t]! - cap;
    }
  }
  return {
    name,
    capacityRps: cap,
    threshold,
    load: series,
    peakUtilisation: peak,
    overThresholdSeconds: over,
    overloadSeconds: overload,
    excessRequests: excess,
    timeToReliefS: firstOver < 0 ? null : lastOver + 1 - firstOver,
    relieved: firstOver < 0 || lastOver < T - 1,
  };
}
