import { type Logger, parseDuration, promQuery } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { and, desc, eq } from 'drizzle-orm';
import type { ControllerMetrics } from './metrics.ts';

type SloRow = typeof schema.slos.$inferSelect;

/**
 * Default PromQL per metric; `{edge}` and `{window}` are filled in. For utilisation
 * the query gives the edge's load in requests/s and the controller divides it by the
 * edge's capacity from the database (utilisation = load / capacity); the other
 * metrics are used as they come (seconds, ratios).
 */
export const DEFAULT_QUERIES: Record<SloRow['metric'], string> = {
  utilisation: 'sum(catchment_edge_load_rps{edge="{edge}"})',
  latency:
    'histogram_quantile(0.99, sum by (le) (rate(catchment_edge_request_duration_seconds_bucket{edge="{edge}"}[{window}])))',
  'error-rate':
    'sum(rate(catchment_edge_errors_total{edge="{edge}"}[{window}])) / sum(rate(catchment_edge_requests_total{edge="{edge}"}[{window}]))',
  loss: 'avg_over_time(catchment_edge_loss_ratio{edge="{edge}"}[{window}])',
};

export interface SloEvaluatorOptions {
  db: Db;
  logger: Logger;
  metrics: ControllerMetrics;
  /** Prometheus base URL; without it, utilisation SLOs use the edge_loads table. */
  prometheusUrl?: string | undefined;
  /**
   * Multi-window burn rate: for ratio metrics (error-rate, loss) also evaluate the
   * query over window / shortWindowDivisor and take the smaller value, so a signal
   * fires only while both the long and the short window burn (and clears fast).
   */
  burnRate?: { shortWindowDivisor: number } | undefined;
  /** A reported load older than this is no data (the planner's rule too): a silent edge is not at its last value. */
  loadStaleMs: number;
  now: () => Date;
}

export interface SloResult {
  slo: string;
  edge: string;
  value: number | null;
  status?: 'firing' | 'resolved';
  error?: string;
}

function fill(query: string, edge: string, window: string): string {
  return query.replaceAll('{edge}', edge).replaceAll('{window}', window);
}

function shortWindow(window: string, divisor: number): string {
  const ms = Math.max(1000, Math.round(parseDuration(window) / divisor));
  return `${Math.round(ms / 1000)}s`;
}

/**
 * Evaluates every SLO for its edge (or every edge when the SLO names none) and records
 * the result in `signals` (source 'slo'), alert-like: an episode row starts firing at
 * the enter threshold and resolves at the exit threshold; in between, each evaluation
 * updates the episode's latest value. Playbooks then read SLO signals like alerts.
 */
export class SloEvaluator {
  readonly #o: SloEvaluatorOptions;

  constructor(opts: SloEvaluatorOptions) {
    this.#o = opts;
  }

  async evaluate(): Promise<SloResult[]> {
    const { db } = this.#o;
    const [slos, edges, loads] = await Promise.all([
      db.select().from(schema.slos),
      db.select().from(schema.edges),
      db.select().from(schema.edgeLoads),
    ]);
    const now = this.#o.now().getTime();
    const freshLoad = (edgeId: number): number | null => {
      const l = loads.find((x) => x.edgeId === edgeId);
      return l && now - l.reportedAt.getTime() <= this.#o.loadStaleMs ? l.rps : null;
    };
    const out: SloResult[] = [];
    for (const slo of slos) {
      for (const edge of edges.filter((e) => slo.edgeId === null || e.id === slo.edgeId)) {
        const result: SloResult = { slo: slo.name, edge: edge.name, value: null };
        try {
          result.value = await this.#measure(slo, edge, freshLoad(edge.id));
          if (result.value !== null) {
            result.status = await this.#record(slo, edge.id, edge.name, result.value);
            this.#o.metrics.sloValue.set({ slo: slo.name, edge: edge.name }, result.value);
          }
          this.#o.metrics.sloEvaluations.inc({ slo: slo.name, result: result.value === null ? 'no-data' : 'ok' });
        } catch (err) {
          result.error = (err as Error).message;
          this.#o.metrics.sloEvaluations.inc({ slo: slo.name, result: 'error' });
          this.#o.logger.warn({ slo: slo.name, edge: edge.name, err: result.error }, 'SLO evaluation failed');
        }
        out.push(result);
      }
    }
    return out;
  }

  async #measure(
    slo: SloRow,
    edge: typeof schema.edges.$inferSelect,
    reportedRps: number | null,
  ): Promise<number | null> {
    const url = this.#o.prometheusUrl;
    if (!url) {
      if (slo.metric !== 'utilisation' || reportedRps === null) return null;
      return reportedRps / edge.capacityRps;
    }
    const query = slo.query ?? DEFAULT_QUERIES[slo.metric];
    const now = this.#o.now();
    const first = await promQuery(url, fill(query, edge.name, slo.window), now);
    let value = first[0]?.value ?? null;
    if (value === null) return null;
    if (slo.metric === 'utilisation') return value / edge.capacityRps;
    const burn = this.#o.burnRate;
    if (burn && (slo.metric === 'error-rate' || slo.metric === 'loss') && query.includes('{window}')) {
      const short = await promQuery(url, fill(query, edge.name, shortWindow(slo.window, burn.shortWindowDivisor)), now);
      const v = short[0]?.value;
      value = v === undefined ? value : Math.min(value, v);
    }
    return value;
  }

  async #record(slo: SloRow, edgeId: number, edge: string, value: number): Promise<'firing' | 'resolved'> {
    const { db } = this.#o;
    const now = this.#o.now();
    const fingerprint = `${slo.name}/${edge}`;
    const latest = (
      await db
        .select()
        .from(schema.signals)
        .where(and(eq(schema.signals.source, 'slo'), eq(schema.signals.fingerprint, fingerprint)))
        .orderBy(desc(schema.signals.startsAt))
        .limit(1)
    )[0];
    const labels = { alertname: 'SloBreach', slo: slo.name, edge, metric: slo.metric };
    if ((!latest || latest.status === 'resolved') && value >= slo.enterThreshold) {
      await db.insert(schema.signals).values({
        source: 'slo',
        fingerprint,
        name: slo.name,
        edgeId,
        slo: slo.name,
        status: 'firing',
        labels,
        value,
        startsAt: now,
        receivedAt: now,
        updatedAt: now,
      });
      return 'firing';
    }
    if (!latest) {
      await db.insert(schema.signals).values({
        source: 'slo',
        fingerprint,
        name: slo.name,
        edgeId,
        slo: slo.name,
        status: 'resolved',
        labels,
        value,
        startsAt: now,
        endsAt: now,
        receivedAt: now,
        updatedAt: now,
      });
      return 'resolved';
    }
    const resolves = latest.status === 'firing' && value <= slo.exitThreshold;
    await db
      .update(schema.signals)
      .set({ value, updatedAt: now, ...(resolves ? { status: 'resolved', endsAt: now } : {}) })
      .where(eq(schema.signals.id, latest.id));
    return resolves ? 'resolved' : (latest.status as 'firing' | 'resolved');
  }
}
