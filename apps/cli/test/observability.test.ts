import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { VERSION } from '@catchment/core';
import {
  dashboardExpressions,
  exposedMetrics,
  freePort,
  MONITORING_KIT,
  ruleExpressions,
  type Stack,
  scrape,
  selectedMetrics,
  spawnLogged,
  startStack,
  until,
} from '@catchment/testkit';
import { createXdpMetrics } from '../../edge/src/xdp/metrics.ts';

const run = promisify(execFile);
const PARTS = ['api', 'dns', 'controller', 'edge'] as const;

/** promtool's lint of an exposition: its findings (empty when clean). */
async function promtoolCheck(text: string): Promise<string> {
  const child = execFile('promtool', ['check', 'metrics']);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  child.stdin?.end(text);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return code === 0 ? out.trim() : `exit ${code}: ${out}`;
}

/**
 * Metrics and logs of every part as an operator sees them: `catchment start` (API, DNS,
 * controller) and a separate edge agent, scraped and linted with promtool, their JSON logs
 * parsed line by line, stopped with SIGTERM.
 */
describe('metrics and logs of every part', () => {
  let stack: Stack;
  const texts: Partial<Record<(typeof PARTS)[number], string>> = {};
  before(async () => {
    await run('promtool', ['--version']);
    stack = await startStack();
    await stack.startEdge('lhr');
    for (const part of PARTS) {
      const url = stack.metricsUrls[part];
      assert.ok(url, part);
      texts[part] = await scrape(url, part === 'api' ? stack.adminToken : undefined);
    }
  });
  after(() => stack?.stop());

  for (const part of PARTS) {
    it(`${part}: catchment_build_info, process_* and nodejs_* metrics, promtool check metrics clean`, async () => {
      const text = texts[part] ?? '';
      const info = text.split('\n').find((l) => l.startsWith('catchment_build_info{'));
      assert.ok(info, `${part} has catchment_build_info`);
      assert.match(info, new RegExp(`version="${VERSION.replaceAll('.', '\\.')}"`));
      assert.match(info, new RegExp(`part="${part}"`));
      assert.match(info, / 1$/);
      for (const name of [
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'process_start_time_seconds',
        'nodejs_heap_size_used_bytes',
        'nodejs_eventloop_lag_seconds',
      ]) {
        assert.match(text, new RegExp(`^${name}(\\{| )`, 'm'), `${part} exposes ${name}`);
      }
      assert.doesNotMatch(text, /^catchment_api_process_|^catchment_api_nodejs_/m, 'standard names, not prefixed');
      assert.equal(await promtoolCheck(text), '', `${part}: promtool check metrics`);
    });
  }

  it('the dashboards and rules select only metrics the parts expose', async () => {
    const exposed = new Set<string>(['up']); // Prometheus's own
    for (const part of PARTS) for (const n of exposedMetrics(texts[part] ?? '')) exposed.add(n);
    // The XDP applier's metrics join the agent's registry only on an edge with XDP (not here).
    for (const n of exposedMetrics(await createXdpMetrics(async () => undefined).registry.metrics())) exposed.add(n);
    const { expressions, recorded } = ruleExpressions();
    const unknown: string[] = [];
    for (const e of [...dashboardExpressions(), ...expressions]) {
      for (const name of selectedMetrics(e.expr)) {
        if (!exposed.has(name) && !recorded.has(name)) unknown.push(`${e.where}: ${name}`);
      }
    }
    assert.deepEqual(unknown, []);
  });

  it("Prometheus with the kit's configuration scrapes every part and evaluates every dashboard query", async (t) => {
    const kit = join(stack.dir, 'kit');
    await cp(join(MONITORING_KIT, 'prometheus'), kit, { recursive: true });
    const res = await fetch(`${stack.apiUrl}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `prometheus-${process.pid}`, role: 'viewer' }),
    });
    assert.equal(res.status, 201);
    await writeFile(join(kit, 'catchment-viewer-token'), ((await res.json()) as { token: string }).token);
    const hostPort = (url: string | undefined) => new URL(url ?? '').host;
    for (const part of PARTS) {
      await writeFile(join(kit, 'targets', `${part}.yml`), `- targets: ['${hostPort(stack.metricsUrls[part])}']\n`);
    }
    const config = (await readFile(join(kit, 'prometheus.yml'), 'utf8')).replace(
      /scrape_interval: 15s/,
      'scrape_interval: 1s',
    );
    await writeFile(join(kit, 'prometheus.yml'), config);
    const port = await freePort();
    const prom = spawnLogged(
      [
        'prometheus',
        `--config.file=${join(kit, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(kit, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      process.env,
    );
    t.after(() => prom.stop());
    const query = async (q: string) => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await r.json()) as {
        status: string;
        error?: string;
        data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      if (body.status !== 'success') throw new Error(`${q}: ${body.error}`);
      return body.data?.result ?? [];
    };
    const up = await until(
      'every job scraped',
      async () => {
        const r = await query('up{job=~"catchment-.*"} == 1');
        return r.length === PARTS.length ? r : undefined;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${prom.output()}`);
    });
    assert.deepEqual(up.map((s) => s.metric.job).sort(), [
      'catchment-api',
      'catchment-controller',
      'catchment-dns',
      'catchment-edge',
    ]);
    const info = await query('catchment_build_info');
    assert.deepEqual(info.map((s) => s.metric.part).sort(), ['api', 'controller', 'dns', 'edge']);
    const dashboards = dashboardExpressions().map((e) => ({
      ...e,
      expr: e.expr
        .replace(/label_values\(\s*([^,]+),[^)]*\)/, '$1')
        .replaceAll('$instance', '.*')
        .replaceAll('$edge', '.*'),
    }));
    for (const e of dashboards) await query(e.expr).catch((err: Error) => assert.fail(`${e.where}: ${err.message}`));
  });

  it('logs JSON lines with ISO timestamps and no duplicate keys; a stop delivers the last report', async () => {
    const edgeCode = await stack.edge?.stop();
    const mainCode = await stack.main.stop();
    assert.equal(edgeCode, 0, stack.edge?.output());
    assert.equal(mainCode, 0, stack.main.output());
    const lines = [stack.main.output(), stack.edge?.output() ?? '']
      .join('')
      .split('\n')
      .filter((l) => l !== '');
    assert.ok(lines.length > 5, 'there are logs');
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      // Parsing keeps the last of duplicate keys, so a line with duplicates does not survive a round trip.
      assert.equal(JSON.stringify(entry), line, `no duplicate keys: ${line}`);
      assert.match(String(entry.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
      assert.equal(typeof entry.msg, 'string', line);
    }
    const notDelivered = lines.filter((l) => l.includes('report not delivered'));
    assert.deepEqual(notDelivered, [], 'stopping reports nothing undeliverable');
  });
});
