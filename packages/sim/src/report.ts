import { catchmentShares } from './catchment.ts';
import type { RunResult } from './engine.ts';
import type { StrategyName } from './scenario.ts';
import type { SimulationResult } from './simulate.ts';
import { STRATEGY_TEXT } from './strategies.ts';

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

/** Edges that were over their threshold in some run: the ones the table is about. */
function hotEdges(result: SimulationResult): string[] {
  const names = new Set<string>();
  for (const r of result.runs) for (const e of r.edges) if (e.overThresholdSeconds > 0) names.add(e.name);
  return [...names];
}

export interface StrategyRow {
  strategy: string;
  description: string;
  overThresholdSeconds: number;
  overloadSeconds: number;
  excessRequests: number;
  timeToReliefS: Record<string, number | null>;
  peakUtilisation: Record<string, number>;
  servedFartherRequests: number;
  servedFartherShare: number;
  addedRttMs: number;
  droppedRequests: number;
  connectionsBroken: number;
  steps: number;
}

export function strategyRows(result: SimulationResult): StrategyRow[] {
  const hot = hotEdges(result);
  return result.runs.map((r) => {
    const by = new Map(r.edges.map((e) => [e.name, e]));
    return {
      strategy: r.strategy,
      description: STRATEGY_TEXT[r.strategy as StrategyName] ?? r.strategy,
      overThresholdSeconds: r.overThresholdSeconds,
      overloadSeconds: r.overloadSeconds,
      excessRequests: round(r.excessRequests),
      timeToReliefS: Object.fromEntries(hot.map((n) => [n, by.get(n)?.timeToReliefS ?? null])),
      peakUtilisation: Object.fromEntries(hot.map((n) => [n, round(by.get(n)?.peakUtilisation ?? 0, 3)])),
      servedFartherRequests: round(r.servedFartherRequests),
      servedFartherShare: r.offeredRequests > 0 ? round(r.servedFartherRequests / r.offeredRequests, 4) : 0,
      addedRttMs: round(r.addedRttMs, 1),
      droppedRequests: round(r.droppedRequests),
      connectionsBroken: Math.round(r.connectionsBroken),
      steps: r.steps.length,
    };
  });
}

function relief(e: SimulationJsonEdge | undefined): string {
  if (!e || e.timeToReliefS === null) return '-';
  return e.relieved ? `${e.timeToReliefS} s` : `>${e.timeToReliefS} s`;
}

/** The comparison table (Markdown, so it reads in a terminal and pastes into docs). */
export function strategyTable(result: SimulationResult): string {
  return jsonTable(resultJson(result));
}

/**
 * The table from the JSON, so a local run and one answered by the API (`POST /v1/simulate`)
 * print the same thing.
 */
export function jsonTable(json: SimulationJson): string {
  const hot = [
    ...new Set(json.runs.flatMap((r) => r.edges.filter((e) => e.overThresholdSeconds > 0).map((e) => e.name))),
  ];
  const head = [
    'strategy',
    'over-threshold s',
    'overload s',
    'excess requests',
    ...hot.map((n) => `relief ${n}`),
    ...hot.map((n) => `peak ${n}`),
    'served farther',
    'added RTT',
    'dropped',
    'connections broken',
  ];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  json.runs.forEach((r, i) => {
    const row = json.strategies[i]!;
    const by = new Map(r.edges.map((e) => [e.name, e]));
    const cells = [
      r.strategy,
      String(row.overThresholdSeconds),
      String(row.overloadSeconds),
      String(Math.round(row.excessRequests)),
      ...hot.map((n) => relief(by.get(n))),
      ...hot.map((n) => `${Math.round((by.get(n)?.peakUtilisation ?? 0) * 100)} %`),
      `${(100 * row.servedFartherShare).toFixed(1)} %`,
      `${row.addedRttMs.toFixed(1)} ms`,
      String(Math.round(row.droppedRequests)),
      String(row.connectionsBroken),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  });
  return lines.join('\n');
}

/** What `catchment simulate` prints without --json: the scenario's size, the table, each run's steps. */
export function resultText(json: SimulationJson): string {
  const s = json.scenario;
  const out = [
    `${s.blocks} client blocks, ${s.resolvers} resolvers, ${s.entries} cache entries, ${s.durationS} s of ${s.service}\n`,
    jsonTable(json),
  ];
  for (const r of json.runs) {
    if (r.steps.length > 0) out.push(`\n${r.strategy}: ${r.steps.map((x) => `${x.t} s ${x.text}`).join('; ')}`);
  }
  return `${out.join('\n')}\n`;
}

export interface SimulationJsonEdge {
  name: string;
  capacityRps: number;
  threshold: number;
  peakUtilisation: number;
  overThresholdSeconds: number;
  overloadSeconds: number;
  excessRequests: number;
  timeToReliefS: number | null;
  relieved: boolean;
  connectionsBroken: number;
  load?: number[];
}

/** Per client country, each receiving edge's share of its load (`none`: reached no edge). */
export interface CatchmentJson {
  atS: number;
  countries: Record<string, Record<string, number>>;
}

/** The JSON of `catchment simulate --json` and of `POST /v1/simulate`. */
export interface SimulationJson {
  scenario: SimulationResult['scenario'];
  strategies: StrategyRow[];
  runs: {
    strategy: string;
    offeredRequests: number;
    servedRequests: number;
    dsrCostRequests: number;
    droppedRequests: number;
    connectionsBroken: number;
    catchment: { before: CatchmentJson; after: CatchmentJson };
    steps: RunResult['steps'];
    decisions: RunResult['decisions'];
    edges: SimulationJsonEdge[];
  }[];
}

/** JSON for scripts: the table's numbers, each run's steps and decisions, per-edge summaries. */
export function resultJson(result: SimulationResult, opts: { series?: boolean } = {}): SimulationJson {
  return {
    scenario: result.scenario,
    strategies: strategyRows(result),
    runs: result.runs.map((r) => ({
      strategy: r.strategy,
      offeredRequests: round(r.offeredRequests),
      servedRequests: round(r.servedRequests),
      dsrCostRequests: round(r.dsrCostRequests),
      droppedRequests: round(r.droppedRequests),
      connectionsBroken: Math.round(r.connectionsBroken),
      catchment: {
        before: { atS: r.catchment.before.atS, countries: catchmentShares(r.catchment, r.catchment.before) },
        after: { atS: r.catchment.after.atS, countries: catchmentShares(r.catchment, r.catchment.after) },
      },
      steps: r.steps,
      decisions: r.decisions,
      edges: r.edges.map((e) => ({
        name: e.name,
        capacityRps: e.capacityRps,
        threshold: e.threshold,
        peakUtilisation: round(e.peakUtilisation, 4),
        overThresholdSeconds: e.overThresholdSeconds,
        overloadSeconds: e.overloadSeconds,
        excessRequests: round(e.excessRequests),
        timeToReliefS: e.timeToReliefS,
        relieved: e.relieved,
        connectionsBroken: Math.round(e.connectionsBroken),
        ...(opts.series ? { load: Array.from(e.load, (x) => round(x, 1)) } : {}),
      })),
    })),
  };
}

export type { RunResult };
