import { type Static, Type } from 'typebox';
import { parseDuration } from './duration.ts';
import { Duration } from './schema-common.ts';

/**
 * Service level objectives with an error budget, evaluated as multi-window,
 * multi-burn-rate conditions (Google SRE workbook, "Alerting on SLOs"). The controller
 * evaluates them against Prometheus and `catchment slo rules` writes the same conditions
 * as Prometheus rules; both build their PromQL here, so they cannot disagree.
 */

/** One alerting pair: fires while the burn rate over both windows exceeds `factor`. */
export const BurnRateWindow = Type.Object(
  {
    long: Duration,
    short: Duration,
    factor: Type.Number({ exclusiveMinimum: 0, maximum: 100_000 }),
    severity: Type.Union([Type.Literal('page'), Type.Literal('ticket')]),
  },
  { additionalProperties: false },
);
export type BurnRateWindow = Static<typeof BurnRateWindow>;

export const SloObjective = Type.Object(
  {
    /** Share of good events (or of good time, for utilisation) the objective promises, e.g. 0.999. */
    target: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
    /** The budget window, e.g. 28d or 30d. */
    window: Duration,
    /** latency: seconds a good request takes at most; utilisation: the ratio good time stays under. */
    threshold: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 })),
    /** PromQL for the bad-event ratio over `{window}` for `{edge}`; replaces the metric's default. */
    query: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    /** Alerting pairs; the SRE workbook's four when absent. */
    burnRates: Type.Optional(Type.Array(BurnRateWindow, { minItems: 1, maxItems: 8 })),
  },
  { additionalProperties: false },
);
export type SloObjective = Static<typeof SloObjective>;

/** The SRE workbook's recommended pairs for a 30-day budget (2 %, 5 %, 10 % and 10 % of it). */
export const DEFAULT_BURN_RATES: readonly BurnRateWindow[] = [
  { long: '1h', short: '5m', factor: 14.4, severity: 'page' },
  { long: '6h', short: '30m', factor: 6, severity: 'page' },
  { long: '1d', short: '2h', factor: 3, severity: 'ticket' },
  { long: '3d', short: '6h', factor: 1, severity: 'ticket' },
];

/** The alert name of a burning pair, in the controller's signals and in generated rules alike. */
export const SLO_BURN_ALERT = 'CatchmentSloBurn';

export type ObjectiveMetric = 'utilisation' | 'latency' | 'error-rate' | 'loss';

export interface ObjectiveSlo {
  name: string;
  metric: ObjectiveMetric;
  objective: SloObjective;
}

/** Why an objective cannot be evaluated for this metric, or undefined. */
export function objectiveProblem(metric: ObjectiveMetric, o: SloObjective): string | undefined {
  if (!o.query && (metric === 'latency' || metric === 'utilisation') && o.threshold === undefined) {
    return `a ${metric} objective needs a threshold (${metric === 'latency' ? 'seconds' : 'a utilisation ratio'})`;
  }
  for (const p of burnRates(o)) {
    if (parseDuration(p.short) >= parseDuration(p.long))
      return `burn-rate pair ${p.long}/${p.short}: short must be shorter`;
  }
  return undefined;
}

export function burnRates(o: SloObjective): readonly BurnRateWindow[] {
  return o.burnRates ?? DEFAULT_BURN_RATES;
}

/** Every window whose bad ratio the evaluation needs: each pair's two and the budget window. */
export function objectiveWindows(o: SloObjective): string[] {
  const all = new Set<string>([o.window]);
  for (const p of burnRates(o)) {
    all.add(p.long);
    all.add(p.short);
  }
  return [...all].sort((a, b) => parseDuration(a) - parseDuration(b));
}

const quote = (v: string) => JSON.stringify(v);

/** PromQL: the share of bad events (or bad time) at `edge` over `window`. */
export function badRatioQuery(slo: ObjectiveSlo, edge: string, window: string): string {
  const o = slo.objective;
  const e = `edge=${quote(edge)}`;
  if (o.query) return o.query.replaceAll('{edge}', edge).replaceAll('{window}', window);
  switch (slo.metric) {
    case 'error-rate':
      return `sum(rate(catchment_edge_errors_total{${e}}[${window}])) / sum(rate(catchment_edge_requests_total{${e}}[${window}]))`;
    case 'latency':
      return (
        `1 - sum(rate(catchment_edge_request_duration_seconds_bucket{${e},le=${quote(String(o.threshold))}}[${window}]))` +
        ` / sum(rate(catchment_edge_request_duration_seconds_count{${e}}[${window}]))`
      );
    case 'loss':
      return `avg_over_time(catchment_edge_loss_ratio{${e}}[${window}])`;
    case 'utilisation':
      // Time-based: the share of minutes in which the edge ran at or above the threshold.
      return (
        `1 - avg_over_time((max(catchment_edge_load_rps{${e}}) / max(catchment_edge_capacity_rps{${e}})` +
        ` < bool ${o.threshold})[${window}:1m])`
      );
  }
}

export interface BurnReading {
  /** Bad ratio per window (null: no data). */
  ratios: Record<string, number | null>;
  /** Bad ratio / allowed bad ratio, per window. */
  burnRates: Record<string, number | null>;
  /** Share of the budget window's error budget left (negative when overspent; null: no data). */
  budgetRemaining: number | null;
  /** The pairs whose both windows burn faster than their factor. */
  firing: BurnRateWindow[];
}

/** Turns the measured bad ratios into burn rates, budget left and firing pairs. */
export function readBurn(o: SloObjective, ratios: Record<string, number | null>): BurnReading {
  const allowed = 1 - o.target;
  const burn: Record<string, number | null> = {};
  for (const [w, r] of Object.entries(ratios)) burn[w] = r === null ? null : r / allowed;
  const over = (w: string, factor: number) => {
    const b = burn[w];
    return b !== null && b !== undefined && b > factor;
  };
  const budget = ratios[o.window];
  return {
    ratios,
    burnRates: burn,
    budgetRemaining: budget === null || budget === undefined ? null : 1 - budget / allowed,
    firing: burnRates(o).filter((p) => over(p.long, p.factor) && over(p.short, p.factor)),
  };
}

/** Labels of a burning pair: the controller's signal and the generated alert carry the same. */
export function burnLabels(slo: string, edge: string, p: BurnRateWindow): Record<string, string> {
  return { alertname: SLO_BURN_ALERT, slo, edge, severity: p.severity, long: p.long, short: p.short };
}

const recordName = (w: string) => `catchment:slo_bad_ratio:rate${w}`;

interface RuleGroup {
  name: string;
  interval?: string;
  rules: Record<string, unknown>[];
}

/**
 * Prometheus recording and alerting rules for each SLO with an objective and each edge it
 * covers (as Sloth and Pyrra generate them): one recorded bad ratio per window, an alert
 * per burn-rate pair, and the budget left.
 */
export function sloRuleGroups(slos: (ObjectiveSlo & { edges: string[] })[]): { groups: RuleGroup[] } {
  const groups: RuleGroup[] = [];
  for (const slo of slos) {
    const o = slo.objective;
    const rules: Record<string, unknown>[] = [];
    for (const edge of slo.edges) {
      const labels = { slo: slo.name, edge };
      const sel = `{slo=${quote(slo.name)},edge=${quote(edge)}}`;
      for (const w of objectiveWindows(o)) {
        rules.push({ record: recordName(w), expr: badRatioQuery(slo, edge, w), labels });
      }
      rules.push({
        record: 'catchment:slo_error_budget_remaining:ratio',
        expr: `1 - ${recordName(o.window)}${sel} / ${1 - o.target}`,
        labels,
      });
      for (const p of burnRates(o)) {
        const limit = p.factor * (1 - o.target);
        rules.push({
          alert: SLO_BURN_ALERT,
          expr: `${recordName(p.long)}${sel} > ${limit} and ${recordName(p.short)}${sel} > ${limit}`,
          labels: { ...labels, severity: p.severity, long: p.long, short: p.short },
          annotations: {
            summary: `${slo.name} at ${edge} burns its error budget over ${p.factor}x (${p.long} and ${p.short})`,
          },
        });
      }
    }
    if (rules.length > 0) groups.push({ name: `catchment-slo-${slo.name}`, rules });
  }
  return { groups };
}
