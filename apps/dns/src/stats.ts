import { blockOfKey, formatNetwork } from '@catchment/geo/tables';
import { QTYPE_LABELS } from './qtypes.ts';
import type { CompiledZones } from './zone/types.ts';

/**
 * Counters kept by each listener in typed arrays (no allocation on the query path), drained
 * once per second into Prometheus by the main thread and once per report interval into the
 * (client block, edge) answer counts the controller's traffic model is built from.
 */
export const LATENCY_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01];

export interface StatsDelta {
  rcodes: Record<string, number>;
  /** Question type label (qtypes.ts) → replies. */
  qtypes: Record<string, number>;
  /** `service|edge` → answers. */
  answers: Record<string, number>;
  ecs: number;
  noEcs: number;
  truncated: number;
  rrlDropped: number;
  rrlSlipped: number;
  tcpRejected: number;
  /** Queries by COOKIE option (COOKIE_RESULTS). */
  cookies: Record<string, number>;
  /** UDP datagrams that got no reply, by reason (DROP_REASONS), RRL aside. */
  udpDropped: Record<DropReason, number>;
  latency: { buckets: number[]; sum: number; count: number };
}

/**
 * Why a datagram got no reply: `send` the kernel would not take the reply (send buffer full),
 * `oversize` over 4 KiB, `runt` shorter than a header, `response` QR set (never answered: no
 * reflection loops), `source-port-0` cannot be answered, `error` a bug while answering.
 */
export const DROP_REASONS = ['send', 'oversize', 'runt', 'response', 'source-port-0', 'error'] as const;
export type DropReason = (typeof DROP_REASONS)[number];
/** Index of each reason in ListenerStats.dropped. */
export const DROP = { send: 0, oversize: 1, runt: 2, response: 3, sourcePort0: 4, error: 5 } as const;

/** Index: respond.ts COOKIE_* (none is not counted). */
export const COOKIE_RESULTS = ['none', 'client-only', 'valid', 'invalid'] as const;

export interface BlockCount {
  block: string;
  edge: string | null;
  answers: number;
}

export class ListenerStats {
  rcodes = new Float64Array(32);
  /** Index: qtypeSlot(question type). */
  qtypes = new Float64Array(QTYPE_LABELS.length);
  ecs = 0;
  noEcs = 0;
  truncated = 0;
  rrlDropped = 0;
  rrlSlipped = 0;
  tcpRejected = 0;
  /** Per COOKIE_RESULTS index. */
  cookies = new Float64Array(COOKIE_RESULTS.length);
  /** Per DROP_REASONS index. */
  dropped = new Float64Array(DROP_REASONS.length);
  latBuckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  latSum = 0;
  latCount = 0;

  recordLatency(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    this.latBuckets[i]!++;
    this.latSum += seconds;
    this.latCount++;
  }

  drain(zones: CompiledZones | undefined): StatsDelta {
    const rcodes: Record<string, number> = {};
    this.rcodes.forEach((n, i) => {
      if (n > 0) rcodes[String(i)] = n;
    });
    const qtypes: Record<string, number> = {};
    this.qtypes.forEach((n, t) => {
      if (n > 0) qtypes[QTYPE_LABELS[t]!] = n;
    });
    const answers: Record<string, number> = {};
    for (const svc of zones?.services ?? []) {
      svc.answerCounts.forEach((n, i) => {
        if (n > 0) answers[`${svc.name}|${svc.edges[i] ?? 'anycast'}`] = n;
      });
      svc.answerCounts.fill(0);
    }
    const d: StatsDelta = {
      rcodes,
      qtypes,
      answers,
      ecs: this.ecs,
      noEcs: this.noEcs,
      truncated: this.truncated,
      rrlDropped: this.rrlDropped,
      rrlSlipped: this.rrlSlipped,
      tcpRejected: this.tcpRejected,
      cookies: Object.fromEntries(COOKIE_RESULTS.slice(1).map((r, i) => [r, this.cookies[i + 1]!])),
      udpDropped: Object.fromEntries(DROP_REASONS.map((r, i) => [r, this.dropped[i]!])) as Record<DropReason, number>,
      latency: { buckets: Array.from(this.latBuckets), sum: this.latSum, count: this.latCount },
    };
    this.rcodes.fill(0);
    this.qtypes.fill(0);
    this.dropped.fill(0);
    this.cookies.fill(0);
    this.ecs = this.noEcs = this.truncated = this.rrlDropped = this.rrlSlipped = this.tcpRejected = 0;
    this.latBuckets.fill(0);
    this.latSum = 0;
    this.latCount = 0;
    return d;
  }
}

/** Answers per (client block, edge) since the last call; resets the counters. */
export function drainBlocks(zones: CompiledZones | undefined): BlockCount[] {
  const out: BlockCount[] = [];
  if (!zones) return out;
  zones.blockCounts.forEach((counts, classIdx) => {
    const cls = zones.steering.classes[classIdx]!;
    counts.drain((key, n) => {
      const child = cls.trie.nodes[key]!;
      if (child >= 0) return;
      const edgeIdx = ((~child & 0xfffff) >>> 0) - 1;
      out.push({
        block: formatNetwork(blockOfKey(cls.trie, key)),
        edge: edgeIdx >= 0 ? (cls.edges[edgeIdx]?.name ?? null) : null,
        answers: n,
      });
    });
  });
  return out;
}
