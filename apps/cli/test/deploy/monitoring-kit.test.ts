import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { dashboardExpressions, MONITORING_KIT, ruleExpressions, selectedMetrics, tempDir } from '@catchment/testkit';

const run = promisify(execFile);

/** The kit as an operator installs it: a copy with the token file in place. */
async function installedKit(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await tempDir('catchment-kit-');
  t.after(() => dir.remove());
  await cp(MONITORING_KIT, dir.path, { recursive: true });
  await copyFile(
    join(dir.path, 'prometheus/catchment-viewer-token.example'),
    join(dir.path, 'prometheus/catchment-viewer-token'),
  );
  return dir.path;
}

test('promtool check config and check rules accept the Prometheus configuration', async (t) => {
  const kit = await installedKit(t);
  const config = await run('promtool', ['check', 'config', join(kit, 'prometheus/prometheus.yml')]);
  assert.match(config.stdout, /is valid prometheus config file/);
  const rules = await run('promtool', ['check', 'rules', join(kit, 'prometheus/rules/catchment.rules.yml')]);
  assert.match(rules.stdout, /SUCCESS: \d+ rules found/);
});

test('promtool test rules: the alerts fire on the cases they are for, and only on those', async () => {
  const { stdout } = await run('promtool', ['test', 'rules', 'tests/catchment.test.yml'], {
    cwd: join(MONITORING_KIT, 'prometheus'),
  });
  assert.match(stdout, /SUCCESS/);
});

test('the rules cover every signal the deployment needs', () => {
  const alerts = new Set(ruleExpressions().expressions.map((e) => e.where.split(': ')[1]));
  for (const name of [
    'EdgeOverloaded',
    'CatchmentConsumerLagging',
    'CatchmentEdgeAgentSilent',
    'CatchmentBgpSessionDown',
    'CatchmentRunStuck',
    'CatchmentDnsServfailRate',
    'CatchmentPartDown',
    'CatchmentNoLeader',
  ]) {
    assert.ok(alerts.has(name), name);
  }
});

test('amtool accepts the Alertmanager configuration; its signal route goes to the API webhook', async () => {
  const file = join(MONITORING_KIT, 'alertmanager/alertmanager.yml');
  const { stdout } = await run('amtool', ['check-config', file]);
  assert.match(stdout, /SUCCESS/);
  assert.match(await readFile(file, 'utf8'), /url: \S+\/v1\/signals\/alertmanager/);
  const routed = await run('amtool', [
    'config',
    'routes',
    'test',
    `--config.file=${file}`,
    '--verify.receivers=catchment,operators',
    'alertname=EdgeOverloaded',
    'catchment_signal=true',
    'edge=lhr',
  ]);
  assert.match(routed.stdout, /catchment,operators/);
  const other = await run('amtool', [
    'config',
    'routes',
    'test',
    `--config.file=${file}`,
    'alertname=CatchmentPartDown',
  ]);
  assert.equal(other.stdout.trim(), 'operators');
});

test('the dashboards are provisionable Grafana JSON with PromQL in every panel', async () => {
  const exprs = dashboardExpressions();
  const files = new Set(exprs.map((e) => e.where.split(':')[0] ?? ''));
  assert.deepEqual([...files].sort(), ['control-plane.json', 'dns.json', 'edges.json']);
  for (const e of exprs) assert.ok(selectedMetrics(e.expr).length > 0, `${e.where}: ${e.expr}`);
  for (const f of files) {
    const d = JSON.parse(await readFile(join(MONITORING_KIT, 'grafana/dashboards', f), 'utf8')) as {
      uid: string;
      panels: { id: number }[];
    };
    assert.match(d.uid, /^catchment-/);
    assert.equal(new Set(d.panels.map((p) => p.id)).size, d.panels.length, `${f}: unique panel ids`);
  }
});
