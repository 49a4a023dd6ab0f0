/**
 * Rate of one or more counters from successive samples, per series (a series is
 * identified by its key, e.g. its label set), summed over the series:
 *  - the first sample gives no rate (undefined): a counter's absolute value says nothing
 *    about the current load;
 *  - a series whose value went down was reset (process restart, map recreated): as in
 *    Prometheus' rate(), its increase is its new value (it counted up from zero);
 *  - a series new since the previous sample adds nothing this time (its increase is unknown);
 *    when no series of the previous sample is left, there is no rate (as a first sample).
 */
export class CounterRate {
  #prev: { at: number; values: Map<string, number> } | undefined;

  /** `at` in milliseconds (any monotonic clock); returns requests (events) per second. */
  observe(values: Map<string, number>, at: number): number | undefined {
    const prev = this.#prev;
    this.#prev = { at, values };
    if (!prev) return undefined;
    const seconds = (at - prev.at) / 1000;
    if (!(seconds > 0)) return undefined;
    let increase = 0;
    let matched = 0;
    for (const [key, value] of values) {
      const before = prev.values.get(key);
      if (before === undefined) continue;
      matched++;
      increase += value >= before ? value - before : value;
    }
    return matched === 0 ? undefined : increase / seconds;
  }

  /** Forget the previous sample (the next one is a first sample again). */
  reset(): void {
    this.#prev = undefined;
  }
}
