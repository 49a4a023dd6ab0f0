import { blockOfKey, formatNetwork } from '@catchment/geo';
import type { CompiledZones } from './zone/compile.ts';

/**
 * Counters kept by each listener in plain arrays and maps (cheap on the query path), drained
 * once per second into Prometheus by the main thread and once per report interval into the
 * (client block, edge) answer counts the controller's traffic model is built from.
 */
export const LATENCY_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01];

export interface StatsDelta {
  rcodes: Record<string, number>;
  qtypes: Record<string, number>;
  /** `service|edge` → answers. */
  answers: Record<string, number>;
  ecs: number;
  noEcs: number;
  truncated: number;
  rrlDropped: number;
  rrlSlipped: number;
  tcpRejected: number;
  latency: { buckets: number[]; sum: number; count: number };
}

export interface BlockCount {
  block: string;
  edge: string | null;
  service: string;
  answers: number;
}

export class ListenerStats {
  rcodes = new Float64Array(32);
  qtypes = new Map<number, number>();
  answers = new Map<number, number>();
  ecs = 0;
  noEcs = 0;
  truncated = 0;
  rrlDropped = 0;
  rrlSlipped = 0;
  tcpRejected = 0;
  latBuckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  latSum = 0;
  latCount = 0;
  /** (class * 2^31 + leaf key) * 64 + edge... kept as service/edge pairs per block key. */
  blocks = new Map<number, number>();

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
    for (const [t, n] of this.qtypes) qtypes[String(t)] = n;
    const answers: Record<string, number> = {};
    for (const [k, n] of this.answers) {
      const svc = zones?.services[k >> 8];
      if (!svc) continue;
      answers[`${svc.name}|${svc.edges[k & 0xff] ?? 'anycast'}`] = n;
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
      latency: { buckets: Array.from(this.latBuckets), sum: this.latSum, count: this.latCount },
    };
    this.rcodes.fill(0);
    this.qtypes.clear();
    this.answers.clear();
    this.ecs = this.noEcs = this.truncated = this.rrlDropped = this.rrlSlipped = this.tcpRejected = 0;
    this.latBuckets.fill(0);
    this.latSum = 0;
    this.latCount = 0;
    return d;
  }

  /** Answers per (client block, edge, service) since the last call. */
  drainBlocks(zones: CompiledZones | undefined): BlockCount[] {
    const out: BlockCount[] = [];
    if (zones) {
      for (const [k, n] of this.blocks) {
        const serviceIdx = k % 1024;
        const blockKey = Math.floor(k / 1024);
        const svc = zones.services[serviceIdx];
        if (!svc) continue;
        const classIdx = Math.floor(blockKey / 2147483648);
        const leaf = blockKey % 2147483648;
        const cls = zones.steering.classes[classIdx];
        if (!cls || cls !== zones.steering.classes[svc.classIdx]) continue;
        const child = cls.trie.nodes[leaf];
        if (child === undefined || child >= 0) continue;
        const edgeIdx = ((~child & 0xfffff) >>> 0) - 1;
        const block = blockOfKey(cls.trie, leaf);
        out.push({
          block: formatNetwork(block),
          edge: edgeIdx >= 0 ? (cls.edges[edgeIdx]?.name ?? null) : null,
          service: svc.name,
          answers: n,
        });
      }
    }
    this.blocks.clear();
    return out;
  }
}
