/**
 * Connections broken when a route changes: the connections in flight whose packets now arrive at
 * another edge (which has no state for them), or at none. DNS changes break none (a client keeps
 * the address it connected to) and neither does DSR (it forwards only new flows).
 *
 * In flight: a flow of L requests/s with a mean connection of D seconds holds L·D connections
 * (Little's law, one connection per request: an assumption, docs/simulate.md).
 *
 * For one country's clients with one answer: `oldEdge`/`newEdge` per region (-1: none, or a
 * failed edge), `oldShare`/`newShare` the regions' shares. Clients stay in their region as far
 * as its share allows; those of a region that lost share (its transit went out or came back)
 * spread over the regions that gained, in proportion. Adds the broken load (requests/s that were
 * in flight at their old edge) to `out[oldEdge]`.
 */
export function addBrokenLoad(
  load: number,
  from: number,
  to: number,
  oldEdge: (r: number) => number,
  newEdge: (r: number) => number,
  oldShare: Float64Array,
  newShare: Float64Array,
  out: Float64Array,
): void {
  let gained = 0;
  for (let r = from; r < to; r++) gained += Math.max(0, newShare[r]! - oldShare[r]!);
  for (let r = from; r < to; r++) {
    const was = oldEdge(r);
    if (was < 0 || oldShare[r] === 0) continue;
    const stay = Math.min(oldShare[r]!, newShare[r]!);
    let broken = newEdge(r) === was ? 0 : stay;
    const moved = oldShare[r]! - stay;
    if (moved > 0) {
      // Moved to the regions that gained; with none (no transit left) they reach nothing.
      let same = 0;
      for (let j = from; j < to && gained > 0; j++) {
        const g = Math.max(0, newShare[j]! - oldShare[j]!);
        if (g > 0 && newEdge(j) === was) same += g / gained;
      }
      broken += moved * (1 - same);
    }
    out[was] = out[was]! + load * broken;
  }
}
