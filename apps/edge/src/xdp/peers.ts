/**
 * Which DSR peers a receiving edge keeps. The snapshot lists the edges that shed to us
 * now; an edge that stopped (undo, operator action, expiry) still forwards the flows it
 * redirected earlier until they end or idle out on its side (safety rule 6). So a peer
 * the snapshot dropped is kept, "draining", until no packet came from it for the flow
 * idle time. The XDP program writes the last second a packet arrived from each peer
 * into its map value (CLOCK_MONOTONIC seconds, the clock of `monotonicSeconds`).
 *
 * Pure: the agent passes the map as dumped, the time, and when it first saw each peer
 * undesired (its own memory, so a peer whose packets stopped long before the undo still
 * gets a full idle period after it).
 */
export interface PeerPlan {
  /** Keys (hex) to add, with the value to write (now: a fresh peer counts as just seen). */
  add: string[];
  /** Keys no longer listed that may still carry redirected flows. */
  draining: string[];
  /** Keys to delete: unlisted and idle for longer than the flow idle time. */
  remove: string[];
}

/** Slack for the coarse clock and whole seconds on both edges. */
export const PEER_IDLE_SLACK_SECONDS = 2;

export function planPeers(
  have: ReadonlyMap<string, number>,
  want: ReadonlySet<string>,
  nowSeconds: number,
  idleSeconds: number,
  retiredSince: Map<string, number>,
): PeerPlan {
  const plan: PeerPlan = { add: [], draining: [], remove: [] };
  for (const k of want) {
    retiredSince.delete(k);
    if (!have.has(k)) plan.add.push(k);
  }
  for (const [k, lastSeen] of have) {
    if (want.has(k)) continue;
    const since = retiredSince.get(k) ?? nowSeconds;
    retiredSince.set(k, since);
    if (nowSeconds - Math.max(lastSeen, since) > idleSeconds + PEER_IDLE_SLACK_SECONDS) {
      plan.remove.push(k);
      retiredSince.delete(k);
    } else plan.draining.push(k);
  }
  for (const k of retiredSince.keys()) if (!have.has(k)) retiredSince.delete(k);
  return plan;
}

/** Seconds of CLOCK_MONOTONIC, as bpf_ktime_get_coarse_ns() / 1e9 in the program. */
export function monotonicSeconds(): number {
  return Number(process.hrtime.bigint() / 1_000_000_000n);
}
