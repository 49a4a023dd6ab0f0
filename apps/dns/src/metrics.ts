import { instrumentProcess } from '@catchment/core/metrics';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS, type StatsDelta } from './stats.ts';
import { RCODE_NAMES } from './wire/constants.ts';

/** The server's Prometheus metrics, fed from the threads' drained counters. */
export class DnsMetrics {
  readonly registry = new Registry();
  constructor() {
    instrumentProcess(this.registry, 'dns');
  }
  readonly queries = new Counter({
    name: 'catchment_dns_queries_total',
    help: 'Replies by rcode',
    labelNames: ['rcode'],
    registers: [this.registry],
  });
  readonly qtypes = new Counter({
    name: 'catchment_dns_queries_by_type_total',
    help: 'Replies by question type (known types; every other value is "other")',
    labelNames: ['qtype'],
    registers: [this.registry],
  });
  readonly answers = new Counter({
    name: 'catchment_dns_steered_answers_total',
    help: 'Steered answers by service and answering edge (anycast: fallback); each is one answer-table hit',
    labelNames: ['service', 'edge'],
    registers: [this.registry],
  });
  readonly ecs = new Counter({
    name: 'catchment_dns_ecs_queries_total',
    help: 'Queries with and without an ECS option',
    labelNames: ['ecs'],
    registers: [this.registry],
  });
  readonly truncated = new Counter({
    name: 'catchment_dns_truncated_total',
    help: 'UDP replies truncated (TC)',
    registers: [this.registry],
  });
  readonly rrl = new Counter({
    name: 'catchment_dns_rrl_total',
    help: 'Replies limited by RRL',
    labelNames: ['action'],
    registers: [this.registry],
  });
  readonly cookies = new Counter({
    name: 'catchment_dns_cookies_total',
    help: 'Queries with a DNS COOKIE option: client-only, valid or invalid server cookie (valid ones bypass RRL)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly tcpRejected = new Counter({
    name: 'catchment_dns_tcp_rejected_total',
    help: 'TCP connections refused by the connection caps',
    registers: [this.registry],
  });
  readonly udpDropped = new Counter({
    name: 'catchment_dns_udp_dropped_total',
    help: 'UDP datagrams that got no reply (RRL aside), by reason: send, oversize, runt, response, source-port-0, error',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly tcpConnections = new Gauge({
    name: 'catchment_dns_tcp_connections',
    help: 'Open TCP connections',
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'catchment_dns_query_duration_seconds',
    help: 'Time to build a reply (sampled)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly snapshotVersion = new Gauge({
    name: 'catchment_dns_snapshot_version',
    help: 'Version of the snapshot being answered from',
    registers: [this.registry],
  });
  readonly snapshotAge = new Gauge({
    name: 'catchment_dns_snapshot_age_seconds',
    help: 'Age of the snapshot being answered from',
    registers: [this.registry],
  });
  readonly blocks = new Gauge({
    name: 'catchment_dns_answer_blocks',
    help: 'Merged answer blocks in the current tables',
    registers: [this.registry],
  });

  add(d: StatsDelta): void {
    for (const [rc, n] of Object.entries(d.rcodes)) this.queries.inc({ rcode: RCODE_NAMES[Number(rc)] ?? rc }, n);
    for (const [t, n] of Object.entries(d.qtypes)) this.qtypes.inc({ qtype: t }, n);
    for (const [k, n] of Object.entries(d.answers)) {
      const [service = '', edge = ''] = k.split('|');
      this.answers.inc({ service, edge }, n);
    }
    if (d.ecs) this.ecs.inc({ ecs: 'yes' }, d.ecs);
    if (d.noEcs) this.ecs.inc({ ecs: 'no' }, d.noEcs);
    if (d.truncated) this.truncated.inc(d.truncated);
    if (d.rrlDropped) this.rrl.inc({ action: 'drop' }, d.rrlDropped);
    if (d.rrlSlipped) this.rrl.inc({ action: 'slip' }, d.rrlSlipped);
    if (d.tcpRejected) this.tcpRejected.inc(d.tcpRejected);
    for (const [result, n] of Object.entries(d.cookies)) if (n) this.cookies.inc({ result }, n);
    for (const [reason, n] of Object.entries(d.udpDropped)) if (n) this.udpDropped.inc({ reason }, n);
    // Histogram buckets arrive pre-counted: observe each bucket's upper bound.
    d.latency.buckets.forEach((n, i) => {
      const v = LATENCY_BUCKETS[i] ?? 0.02;
      for (let j = 0; j < n; j++) this.latency.observe(v);
    });
  }
}
