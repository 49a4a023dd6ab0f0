import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createToken, type StartedApi, startApi } from '@catchment/api';
import { type ObjectiveSlo, type SloObjective, sloRuleGroups } from '@catchment/core';
import { type Database, schema } from '@catchment/db';
import { DB_MODES, freshDatabase, runCli, tempDir } from '@catchment/testkit';
import { startPrometheus } from '@catchment/testkit/prometheus';
import { seedWorld } from '@catchment/testkit/world';
import { and, eq } from 'drizzle-orm';
import { stringify } from 'yaml';
import { Controller } from '../src/index.ts';
import { TriggerReadings } from '../src/triggers.ts';

const run = promisify(execFile);

/**
 * Real SLOs: a 99.9 % error-rate objective over 28 days, judged by the SRE workbook's
 * multi-window burn-rate pairs. Three days of synthetic request and error counters (one
 * sample a minute) are backfilled into a real Prometheus and given to `promtool test rules`
 * alike:
 * - lhr: 2 % errors in the last hour → burn 20× over 1 h and 5 m: the fast (14.4×) pair only;
 * - fra: 0.7 % errors for the last 6 hours → 7× over 6 h and 30 m: the slower (6×) pair only;
 * - sin: 0.05 % errors throughout → 0.5×: nothing fires, half the budget left.
 */
const MINUTES = 3 * 24 * 60;
/** The series go on for 2 hours after the evaluation instant, with lhr's errors stopped. */
const AFTER = 120;
const PER_MINUTE = 6000;
const errorsPerMinute: Record<string, (minute: number) => number> = {
  lhr: (m) => (m > MINUTES - 60 && m <= MINUTES ? 0.02 * PER_MINUTE : 0),
  fra: (m) => (m > MINUTES - 360 ? 0.007 * PER_MINUTE : 0),
  sin: () => 0.0005 * PER_MINUTE,
};
const EDGE_NAMES = Object.keys(errorsPerMinute);
const OBJECTIVE: SloObjective = { target: 0.999, window: '28d' };
const SLO: ObjectiveSlo = { name: 'edge-errors', metric: 'error-rate', objective: OBJECTIVE };

/** Counter values at each minute 0..MINUTES + AFTER. */
function counters(edge: string): { requests: number[]; errors: number[] } {
  const requests = [0];
  const errors = [0];
  for (let m = 1; m <= MINUTES + AFTER; m++) {
    requests.push((requests[m - 1] as number) + PER_MINUTE);
    errors.push((errors[m - 1] as number) + (errorsPerMinute[edge] as (m: number) => number)(m));
  }
  return { requests, errors };
}

/** The series as OpenMetrics, minute MINUTES at `evalSeconds`. */
function openMetrics(evalSeconds: number): string {
  const start = evalSeconds - MINUTES * 60;
  const lines: string[] = [];
  for (const [family, key] of [
    ['catchment_edge_requests', 'requests'],
    ['catchment_edge_errors', 'errors'],
  ] as const) {
    lines.push(`# TYPE ${family} counter`);
    for (const edge of EDGE_NAMES) {
      counters(edge)[key].forEach((v, m) => lines.push(`${family}_total{edge="${edge}"} ${v} ${start + m * 60}`));
    }
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

function expectedAlerts(): { edge: string; long: string; short: string; severity: string }[] {
  return [
    { edge: 'fra', long: '6h', short: '30m', severity: 'page' },
    { edge: 'lhr', long: '1h', short: '5m', severity: 'page' },
  ];
}

describe('error budgets and multi-window burn rates', () => {
  // The evaluation instant: 2 hours and a minute before now, so every sample is in the past.
  const end = Math.floor(Date.now() / 60_000) * 60 - (AFTER + 1) * 60;
  let prometheus: Awaited<ReturnType<typeof startPrometheus>>;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  before(async () => {
    dir = await tempDir('catchment-slo-burn-');
    prometheus = await startPrometheus([], { backfill: openMetrics(end) });
  });
  after(async () => {
    await prometheus?.stop();
    await dir?.remove();
  });

  it('the generated rules pass promtool check and promtool test with the same series', async () => {
    const rules = sloRuleGroups([{ ...SLO, edges: EDGE_NAMES }]);
    const rulesFile = join(dir.path, 'slo.rules.yml');
    await writeFile(rulesFile, stringify(rules, { lineWidth: 0 }));
    await run('promtool', ['check', 'rules', rulesFile]);
    const series = EDGE_NAMES.flatMap((edge) => {
      const c = counters(edge);
      return [
        { series: `catchment_edge_requests_total{edge="${edge}"}`, values: c.requests.join(' ') },
        { series: `catchment_edge_errors_total{edge="${edge}"}`, values: c.errors.join(' ') },
      ];
    });
    const summary = (edge: string, factor: number, long: string, short: string) =>
      `edge-errors at ${edge} burns its error budget over ${factor}x (${long} and ${short})`;
    const test = {
      rule_files: [rulesFile],
      // Each evaluation computes every window afresh, so hourly evaluations reach the same
      // verdict at the eval time as minutely ones, at a sixtieth of the cost.
      evaluation_interval: '1h',
      tests: [
        {
          interval: '1m',
          input_series: series,
          alert_rule_test: [
            {
              eval_time: `${MINUTES}m`,
              alertname: 'CatchmentSloBurn',
              exp_alerts: expectedAlerts().map((a) => ({
                exp_labels: { slo: 'edge-errors', ...a },
                exp_annotations: { summary: summary(a.edge, a.long === '1h' ? 14.4 : 6, a.long, a.short) },
              })),
            },
          ],
          promql_expr_test: [
            {
              expr: 'round(catchment:slo_error_budget_remaining:ratio{edge="sin"} * 100)',
              eval_time: `${MINUTES}m`,
              exp_samples: [{ labels: '{edge="sin",slo="edge-errors"}', value: 50 }],
            },
          ],
        },
      ],
    };
    const testFile = join(dir.path, 'slo.test.yml');
    await writeFile(testFile, stringify(test, { lineWidth: 0 }));
    const { stdout } = await run('promtool', ['test', 'rules', testFile], { maxBuffer: 16 << 20 }).catch(
      (err: { stdout?: string; stderr?: string }) =>
        assert.fail(`promtool test rules failed:\n${err.stdout}\n${err.stderr}`),
    );
    assert.match(stdout, /SUCCESS/);
  });

  for (const mode of DB_MODES) {
    describe(`on ${mode}`, () => {
      let database: Database;
      let api: StartedApi;
      let token: string;
      before(async () => {
        database = await freshDatabase(mode);
        await seedWorld(database.db);
        await database.db.insert(schema.slos).values({
          name: SLO.name,
          metric: 'error-rate',
          enterThreshold: 0.5,
          exitThreshold: 0.4,
          window: '5m',
          objective: OBJECTIVE,
        });
        api = await startApi({ database, port: 0, host: '127.0.0.1' });
        token = (await createToken(database.db, { name: 'viewer', role: 'viewer' })).token;
      });
      after(async () => {
        await api?.close();
        await database?.close();
      });

      it('the controller finds the same burning pairs, records the budget and a playbook can trigger on them', async () => {
        const controller = new Controller({
          database,
          prometheusUrl: prometheus.url,
          schedule: false,
          http: false,
          now: () => new Date(end * 1000),
        });
        const results = (await controller.slo.evaluate()).filter(
          (r) => r.slo === SLO.name && EDGE_NAMES.includes(r.edge),
        );
        const byEdge = new Map(results.map((r) => [r.edge, r]));
        assert.deepEqual(byEdge.get('lhr')?.burning, ['1h/5m'], JSON.stringify(results));
        assert.deepEqual(byEdge.get('fra')?.burning, ['6h/30m'], JSON.stringify(results));
        assert.deepEqual(byEdge.get('sin')?.burning, []);
        assert.ok(Math.abs((byEdge.get('sin')?.budgetRemaining ?? 0) - 0.5) < 0.01, JSON.stringify(byEdge.get('sin')));

        const firing = await database.db
          .select()
          .from(schema.signals)
          .where(and(eq(schema.signals.source, 'slo-burn'), eq(schema.signals.status, 'firing')));
        assert.deepEqual(
          firing
            .map((s) => s.labels as Record<string, string>)
            .map(({ edge, long, short, severity }) => ({ edge: edge as string, long, short, severity }))
            .sort((a, b) => a.edge.localeCompare(b.edge)),
          expectedAlerts(),
        );

        // A playbook triggered by the page-severity burn alert sees lhr and fra over, sin not.
        const edgeNames = new Map(
          (await database.db.select().from(schema.edges)).map((e) => [e.id, e.name] as [number, string]),
        );
        const readings = await TriggerReadings.load(database.db, edgeNames, new Date(end * 1000), 600_000);
        const playbook = { trigger: { alert: { alertname: 'CatchmentSloBurn', severity: 'page' } } };
        assert.deepEqual(readings.overEdges(playbook as never), ['fra', 'lhr']);

        // The API serves the budget per edge.
        const res = await fetch(`${api.url}/v1/slos/edge-errors/budget`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(res.status, 200);
        const budget = (await res.json()) as { edges: { edge: string; budgetRemaining: number; firing: unknown[] }[] };
        const lhr = budget.edges.find((e) => e.edge === 'lhr');
        assert.ok(lhr && lhr.budgetRemaining > 0.6 && lhr.budgetRemaining < 0.8, JSON.stringify(lhr));
        assert.equal(lhr.firing.length, 1);

        // The CLI reads the same budget, and writes rules promtool accepts.
        const env = { CATCHMENT_API_URL: api.url, CATCHMENT_API_TOKEN: token, NO_COLOR: '1' };
        const budgetRun = await runCli(['slo', 'budget', 'edge-errors'], env);
        assert.equal(budgetRun.code, 0, budgetRun.stderr);
        const table = budgetRun.stdout;
        assert.match(table, /^lhr\s+7\d\.\d%/m, table);
        const rulesRun = await runCli(['slo', 'rules'], env);
        assert.equal(rulesRun.code, 0, rulesRun.stderr);
        const rules = rulesRun.stdout;
        const file = join(dir.path, `cli-${mode}.rules.yml`);
        await writeFile(file, rules);
        const check = await run('promtool', ['check', 'rules', file]);
        assert.match(`${check.stdout}${check.stderr}`, /SUCCESS: \d+ rules found/);
        assert.match(rules, /alert: CatchmentSloBurn/);

        // Two hours later lhr has had no errors for 2 hours: its fast pair resolves; fra still burns.
        const later = new Controller({
          database,
          prometheusUrl: prometheus.url,
          schedule: false,
          http: false,
          now: () => new Date((end + 7200) * 1000),
        });
        const again = (await later.slo.evaluate()).filter((r) => r.slo === SLO.name);
        assert.deepEqual(again.find((r) => r.edge === 'lhr')?.burning, [], JSON.stringify(again));
        assert.deepEqual(again.find((r) => r.edge === 'fra')?.burning, ['6h/30m'], JSON.stringify(again));
        const lhrFast = await database.db
          .select()
          .from(schema.signals)
          .where(and(eq(schema.signals.source, 'slo-burn'), eq(schema.signals.fingerprint, 'edge-errors/lhr/1h-5m')));
        assert.equal(lhrFast.at(-1)?.status, 'resolved');
      });
    });
  }
});
