import type { CounterName } from '../xdp/layout.ts';
import { CounterRate } from './rate.ts';
import type { LoadSource } from './source.ts';

/**
 * Which of the DSR program's per-CPU decision counters (bpf/catchment_dsr.c) make the load.
 * Each new TCP connection to a VIP (a SYN without a flow entry) ends in exactly one of
 * these (syn_prefix_always is counted on the way to one of them, so it is left out):
 *  - `flows` (default): new connections this edge serves itself: kept locally by the
 *    fraction, shedding off, prefixes never shed, or no usable target. Connections shed
 *    to another edge are not this edge's load, so a `dsr-shed` step lowers it, which is
 *    what the controller's verification waits for.
 *  - `offered-flows`: every new connection that arrived, shed ones (syn_shed) included.
 * Flows that other edges shed to this one arrive encapsulated and are counted per packet
 * (decap_ipip, decap_gue), not per connection: neither set includes them; use the
 * prometheus source (the server's own request counter) where that matters.
 */
export const XDP_LOAD_COUNTERS = {
  flows: ['syn_local', 'syn_local_disabled', 'syn_prefix_never', 'syn_no_target'],
  'offered-flows': ['syn_local', 'syn_local_disabled', 'syn_prefix_never', 'syn_no_target', 'syn_shed'],
} as const satisfies Record<string, readonly CounterName[]>;

export type XdpLoadCounters = keyof typeof XDP_LOAD_COUNTERS;

export interface XdpLoadOptions {
  /** The counters summed over CPUs (XdpDsrApplier.readCounters); undefined before the program is loaded. */
  read: () => Promise<Record<CounterName, bigint> | undefined>;
  counters?: XdpLoadCounters;
  /** Clock in ms for the rate (tests); default performance.now(). */
  now?: () => number;
}

/** New connections per second to the edge's VIPs, from the XDP DSR program's counters. */
export class XdpLoadSource implements LoadSource {
  readonly kind = 'xdp';
  readonly description: string;
  readonly #o: XdpLoadOptions;
  readonly #names: readonly CounterName[];
  readonly #rate = new CounterRate();

  constructor(opts: XdpLoadOptions) {
    this.#o = opts;
    const set = opts.counters ?? 'flows';
    this.#names = XDP_LOAD_COUNTERS[set];
    this.description = `xdp ${set} (${this.#names.join('+')})`;
  }

  async read(): Promise<number | undefined> {
    const counters = await this.#o.read();
    if (!counters) throw new Error('the XDP program is not loaded (yet)');
    const at = (this.#o.now ?? performance.now.bind(performance))();
    // One series per counter: a recreated map resets each of them, handled per counter.
    return this.#rate.observe(new Map(this.#names.map((n) => [n, Number(counters[n])])), at);
  }
}
