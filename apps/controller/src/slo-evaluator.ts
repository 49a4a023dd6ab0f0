import {
  badRatioQuery,
  burnLabels,
  burnRates,
  type Logger,
  objectiveWindows,
  parseDuration,
  promQuery,
  readBurn,
  type SloObjective,
} from '@catchment/core';
import { type Db, recordEvaluation, schema } from '@catchment/db';
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
  /** Who the audit log names for the signals it starts and resolves (default controller:slo). */
  actor?: string;
}

export interface SloResult {
  slo: string;
  edge: string;
  value: number | null;
  status?: 'firing' | 'resolved';
  /** For an SLO with an objective: the budget left and the burning pairs (`long/short`). */
  budgetRemaining?: number | null;
  burning?: string[];
  error?: string;
}

type Status = 'firing' | 'resolved';

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
        if (slo.objective && this.#o.prometheusUrl) {
          try {
            Object.assign(result, await this.#burn(slo, slo.objective as SloObjective, edge));
          } catch (err) {
            result.error = (err as Error).message;
            this.#o.metrics.sloEvaluations.inc({ slo: slo.name, result: 'error' });
            this.#o.logger.warn({ slo: slo.name, edge: edge.name, err: result.error }, 'burn-rate evaluation failed');
          }
        }
        out.push(result);
      }
    }
    return out;
  }

  /**
   * The objective's multi-window burn rates: the bad ratio over each window (one query
   * each, at the same instant), the budget left, and one signal per burn-rate pair, firing
   * while both its windows burn faster than its factor (labels as the generated rules').
   */
  async #burn(slo: SloRow, objective: SloObjective, edge: typeof schema.edges.$inferSelect) {
    const url = this.#o.prometheusUrl as string;
    const now = this.#o.now();
    const def = { name: slo.name, metric: slo.metric, objective };
    const windows = objectiveWindows(objective);
    const values = await Promise.all(
      windows.map(async (w) => (await promQuery(url, badRatioQuery(def, edge.name, w), now))[0]?.value ?? null),
    );
    const ratios: Record<string, number | null> = Object.fromEntries(windows.map((w, i) => [w, values[i] ?? null]));
    const reading = readBurn(objective, ratios);
    const { metrics } = this.#o;
    if (reading.budgetRemaining !== null)
      metrics.sloBudgetRemaining.set({ slo: slo.name, edge: edge.name }, reading.budgetRemaining);
    for (const [w, b] of Object.entries(reading.burnRates)) {
      if (b !== null) metrics.sloBurnRate.set({ slo: slo.name, edge: edge.name, window: w }, b);
    }
    const row = {
      sloId: slo.id,
      edgeId: edge.id,
      budgetRemaining: reading.budgetRemaining,
      windows: Object.fromEntries(
        Object.entries(ratios).map(([w, r]) => [w, { ratio: r, burnRate: reading.burnRates[w] ?? null }]),
      ),
      firing: reading.firing,
      evaluatedAt: now,
    };
    await this.#o.db
      .insert(schema.sloBudgets)
      .values(row)
      .onConflictDoUpdate({ target: [schema.sloBudgets.sloId, schema.sloBudgets.edgeId], set: row });
    // A pair with a missing window is no data: its signal keeps its state rather than resolving.
    for (const pair of burnRates(objective)) {
      const long = reading.burnRates[pair.long];
      const short = reading.burnRates[pair.short];
      if (long === null || long === undefined || short === null || short === undefined) continue;
      const burning = reading.firing.includes(pair);
      await this.#episode(
        { source: 'slo-burn', fingerprint: `${slo.name}/${edge.name}/${pair.long}-${pair.short}`, slo: slo.name },
        edge.id,
        burnLabels(slo.name, edge.name, pair),
        Math.min(long, short),
        () => (burning ? 'firing' : 'resolved'),
      );
    }
    return {
      budgetRemaining: reading.budgetRemaining,
      burning: reading.firing.map((p) => `${p.long}/${p.short}`),
    };
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

  /** The threshold signal: starts firing at the enter threshold, resolves at the exit threshold. */
  #record(slo: SloRow, edgeId: number, edge: string, value: number): Promise<Status> {
    return this.#episode(
      { source: 'slo', fingerprint: `${slo.name}/${edge}`, slo: slo.name },
      edgeId,
      { alertname: 'SloBreach', slo: slo.name, edge, metric: slo.metric },
      value,
      (status) =>
        status === 'firing'
          ? value <= slo.exitThreshold
            ? 'resolved'
            : 'firing'
          : value >= slo.enterThreshold
            ? 'firing'
            : 'resolved',
    );
  }

  /** Records one evaluation in `signals` (packages/db recordEvaluation: a new episode when it starts firing). */
  #episode(
    key: { source: string; fingerprint: string; slo: string },
    edgeId: number,
    labels: Record<string, string>,
    value: number,
    next: (latest: Status | undefined) => Status,
  ): Promise<Status> {
    const { db, actor } = this.#o;
    return recordEvaluation(
      db,
      { ...key, edgeId, labels, value, now: this.#o.now(), actor: actor ?? 'controller:slo' },
      next,
    );
  }
}
