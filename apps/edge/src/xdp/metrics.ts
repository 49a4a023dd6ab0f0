import { Counter, Gauge, Registry } from 'prom-client';
import { COUNTER_NAMES, type CounterName } from './layout.ts';

/**
 * Prometheus metrics of the XDP data plane. The per-CPU decision counters are read
 * from the kernel at scrape time (summed over CPUs).
 */
export interface XdpMetrics {
  registry: Registry;
  applies: Counter<'result'>;
  enabled: Gauge;
  fraction: Gauge;
  attached: Gauge<'mode'>;
}

export function createXdpMetrics(
  read: () => Promise<Record<CounterName, bigint> | undefined>,
  registry = new Registry(),
): XdpMetrics {
  new Counter({
    name: 'catchment_xdp_packets_total',
    help: 'Packets seen by the XDP DSR program, by decision',
    labelNames: ['decision'],
    registers: [registry],
    async collect() {
      const counters = await read().catch(() => undefined);
      if (!counters) return;
      this.reset();
      for (const name of COUNTER_NAMES) this.inc({ decision: name }, Number(counters[name]));
    },
  });
  return {
    registry,
    applies: new Counter({
      name: 'catchment_xdp_applies_total',
      help: 'Snapshot applications to the XDP maps, by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    enabled: new Gauge({
      name: 'catchment_xdp_shedding_enabled',
      help: '1 while DSR shedding is on',
      registers: [registry],
    }),
    fraction: new Gauge({
      name: 'catchment_xdp_shed_fraction',
      help: 'Share of new flows shed (0-1)',
      registers: [registry],
    }),
    attached: new Gauge({
      name: 'catchment_xdp_attached',
      help: '1 when the program is attached, by XDP mode',
      labelNames: ['mode'],
      registers: [registry],
    }),
  };
}
