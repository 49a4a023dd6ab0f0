import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfigFile, objectiveWindows } from '@catchment/core';
import { DB_MODES, freePort, freshPostgresUrl, GEOIP_TESTDATA, tempDir, until } from '@catchment/testkit';
import { launchChromium, type RunningBrowser } from '@catchment/testkit/browser';
import { startExporter, startPrometheus } from '@catchment/testkit/prometheus';
import type { Page } from 'playwright-core';
import { buildUi } from '../src/build.ts';

/**
 * The dashboard in real Chromium against `catchment start` (API, DNS server and controller
 * in one process) on PGlite and on PostgreSQL: what an operator sees and does.
 */
const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../../apps/cli/src/main.ts', import.meta.url));
const DEMO = fileURLToPath(new URL('../../../config/demo.yaml', import.meta.url));
const CITY = `${GEOIP_TESTDATA}/GeoIP2-City-Test.mmdb`;
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
/** Set to a folder (e.g. docs) to keep the map and run screenshots there. */
const KEEP_SCREENSHOTS = process.env.CATCHMENT_UI_SCREENSHOTS;
const WAIT = { timeout: 20_000 };
// MaxMind's test data: 81.2.69.142 is in London.
const LONDON = '81.2.69.142/32';

async function dig(port: number, subnet: string): Promise<string> {
  const { stdout } = await run('dig', [
    '@127.0.0.1',
    '-p',
    String(port),
    '+short',
    '+time=1',
    '+tries=1',
    'www.example.net',
    'A',
    `+subnet=${subnet}`,
  ]);
  return stdout.trim();
}

interface Catchment {
  url: string;
  dnsPort: number;
  admin: string;
  output(): string;
  stop(): Promise<void>;
}

async function startCatchment(
  mode: (typeof DB_MODES)[number],
  dataDir: string,
  prometheusUrl: string,
): Promise<Catchment> {
  const ports = { api: await freePort(), dns: await freePort(), dnsHttp: await freePort(), ctl: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CATCHMENT_DATA_DIR: dataDir,
    CATCHMENT_API_PORT: String(ports.api),
    CATCHMENT_DNS_PORT: String(ports.dns),
    CATCHMENT_DNS_HTTP_PORT: String(ports.dnsHttp),
    CATCHMENT_CONTROLLER_PORT: String(ports.ctl),
    CATCHMENT_DNS_WORKERS: '1',
    CATCHMENT_DNS_REPORT_SECONDS: '1',
    CATCHMENT_GEOIP_CITY: CITY,
    CATCHMENT_LOG_LEVEL: 'warn',
    CATCHMENT_PROMETHEUS_URL: prometheusUrl,
  };
  // The admin token file goes there (PGlite would create the folder; PostgreSQL does not).
  await mkdir(dataDir, { recursive: true });
  if (mode === 'postgres') env.DATABASE_URL = await freshPostgresUrl();
  else delete env.DATABASE_URL;
  const child: ChildProcess = spawn(process.execPath, [MAIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${ports.api}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await once(child, 'exit');
    clearTimeout(timer);
  };
  try {
    const admin = await until(
      'the admin token',
      async () => (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim() || undefined,
      90_000,
    );
    return { url, dnsPort: ports.dns, admin, output: () => output, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${output}`);
  }
}

async function call(base: string, token: string, path: string, body?: unknown, method?: string) {
  const res = await fetch(`${base}${path}`, {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/ui/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').waitFor(WAIT);
}

/** axe-core's checks (WCAG A/AA and best practices) on the page as it is. */
async function axe(page: Page, what: string, source: string): Promise<void> {
  // Evaluated through the DevTools protocol: the page's CSP (script-src 'self') does not apply.
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const r = await (
      globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }
    ).axe.run();
    return r.violations.map((v) => `${v.id} (${v.nodes.length}): ${JSON.stringify(v.nodes[0]).slice(0, 300)}`);
  });
  assert.deepEqual(violations, [], `axe on ${what}`);
}

async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const file = join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  const bytes = await readFile(file);
  assert.ok((await stat(file)).size > 5000, `${name}.png is not empty`);
  assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
  return file;
}

const edgesOfDemo = async () => ((await loadConfigFile(DEMO)).edges ?? []).map((e) => e.name).sort();

/** lhr's request and error counters: 1 error in 5000 requests, whenever Prometheus scrapes. */
const OBJECTIVE = { target: 0.999, window: '28d' };
const BAD_RATIO = 1 / 5000;
const started = Date.now();
function lhrCounters(): string {
  const errors = (Date.now() - started) / 10;
  return [
    '# TYPE catchment_edge_requests_total counter',
    `catchment_edge_requests_total{edge="lhr"} ${errors / BAD_RATIO}`,
    '# TYPE catchment_edge_errors_total counter',
    `catchment_edge_errors_total{edge="lhr"} ${errors}`,
    '',
  ].join('\n');
}

let browser: RunningBrowser;
let axeSource: string;
let exporter: Awaited<ReturnType<typeof startExporter>>;
let prometheus: Awaited<ReturnType<typeof startPrometheus>>;
before(async () => {
  await buildUi();
  axeSource = await readFile(AXE, 'utf8');
  browser = await launchChromium();
  // A real Prometheus for the controller's SLO objectives (error budgets and burn rates).
  exporter = await startExporter(lhrCounters);
  prometheus = await startPrometheus([`127.0.0.1:${exporter.port}`]);
});
after(async () => {
  await browser?.close();
  await prometheus?.stop();
  await exporter?.close();
});

for (const mode of DB_MODES) {
  describe(`dashboard in Chromium, catchment start on ${mode}`, () => {
    let dir: Awaited<ReturnType<typeof tempDir>>;
    let cm: Catchment;
    let viewer: string;
    let operator: string;
    let operatorId: number;
    let shots: string;
    const pages: Page[] = [];
    const open = async (token: string) => {
      const page = await browser.context.newPage();
      pages.push(page);
      await signIn(page, cm.url, token);
      return page;
    };

    before(async () => {
      dir = await tempDir('catchment-ui-');
      shots = dir.path;
      cm = await startCatchment(mode, join(dir.path, 'data'), prometheus.url);
      const token = async (role: string) =>
        (await call(cm.url, cm.admin, '/v1/tokens', { name: `${role}-${process.pid}`, role })).body as {
          token: string;
          info: { id: number };
        };
      viewer = (await token('viewer')).token;
      const op = await token('operator');
      operator = op.token;
      operatorId = op.info.id;
      // Every edge reports its load (syd hot), so the map has utilisation and a run has load to move.
      const latest = (await call(cm.url, cm.admin, '/v1/snapshot')).body.version as number;
      for (const [edge, rps] of Object.entries({
        fra: 20000,
        iad: 20000,
        sin: 15000,
        lhr: 6000,
        gru: 4000,
        syd: 19000,
      })) {
        const r = await call(cm.url, cm.admin, '/v1/reports', {
          consumer: `edge:${edge}`,
          kind: 'edge',
          edge,
          snapshotVersion: latest,
          healthy: true,
          load: { rps },
        });
        assert.equal(r.status, 202, JSON.stringify(r.body));
      }
      // A DNS server that stopped following: the consumers page must single it out.
      await call(cm.url, cm.admin, '/v1/reports', {
        consumer: 'dns-stuck',
        kind: 'dns',
        snapshotVersion: 0,
        healthy: true,
      });
    });
    // Each test's tabs close after it: open tabs keep polling the API with the same token.
    afterEach(async () => {
      for (const p of pages.splice(0)) await p.close().catch(() => undefined);
    });
    after(async () => {
      await cm?.stop();
      await dir?.remove();
    });

    it('a viewer sees every demo edge on the map and no action button; the API refuses a viewer anyway', async () => {
      const page = await open(viewer);
      await page.locator('[data-testid=world-map] a[data-edge]').first().waitFor(WAIT);
      const marks = await page
        .locator('[data-testid=world-map] a[data-edge]')
        .evaluateAll((as) => as.map((a) => a.getAttribute('data-edge')));
      assert.deepEqual(marks.sort(), await edgesOfDemo());
      // Loads reported before the page opened are on the map once a snapshot carries them.
      await page.locator('tr[data-edge=syd] td', { hasText: '95 %' }).waitFor(WAIT);
      assert.equal(await page.getByRole('button', { name: /drain|shift|withdraw|freeze|revert/i }).count(), 0);
      await axe(page, 'map', axeSource);
      await screenshot(page, shots, 'map');

      await page.goto(`${cm.url}/ui/#/edges/lhr`);
      await page.getByTestId('read-only').waitFor(WAIT);
      assert.equal(await page.getByTestId('edge-actions').count(), 0);
      await page.goto(`${cm.url}/ui/#/changes`);
      await page.getByTestId('audit').waitFor(WAIT);
      assert.equal(await page.getByRole('button', { name: /revert/i }).count(), 0);

      const refused = await call(cm.url, viewer, '/v1/edges/lhr/drain', { reason: 'viewer tries' });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, 'FORBIDDEN');
    });

    it('an operator drains lhr from its page: the dry-run diff first, then the map and DNS change', async () => {
      assert.equal(await dig(cm.dnsPort, LONDON), '198.18.4.10', 'London is answered with lhr before');
      const page = await open(operator);
      await page.goto(`${cm.url}/ui/#/edges/lhr`);
      await page.getByRole('button', { name: 'Drain lhr' }).click();
      const dialog = page.getByTestId('action-dialog');
      await dialog.getByLabel(/Reason/).fill('ui test: drain London');
      await dialog.getByLabel(/Expires after/).fill('30m');
      await dialog.getByRole('button', { name: 'Preview changes' }).click();
      const preview = dialog.getByTestId('dry-run');
      await preview.waitFor(WAIT);
      const row = preview.locator('tr', { hasText: '/edges/lhr/override' });
      assert.match(await row.innerText(), /"none"\s+"drain"/);
      // The plan: the predicted load of every affected edge, lhr (the drained edge) first.
      const loads = preview.getByTestId('predicted-loads');
      await loads.waitFor(WAIT);
      assert.match(await loads.locator('tbody tr').first().innerText(), /^lhr\s/);
      assert.equal((await call(cm.url, cm.admin, '/v1/actions?active=true')).body.items.length, 0, 'a dry run only');
      await axe(page, 'drain dialog', axeSource);
      await screenshot(page, shots, 'edge-drain-dry-run');
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.getByRole('status').waitFor(WAIT);
      await dialog.getByRole('button', { name: 'Close' }).click();
      await page.getByRole('button', { name: 'Undrain lhr' }).waitFor(WAIT);
      await screenshot(page, shots, 'edge');

      await page.goto(`${cm.url}/ui/#/`);
      await page.locator('[data-testid=world-map] a[data-edge=lhr][data-status="out (drain)"]').waitFor(WAIT);
      assert.equal(await page.locator('tr[data-edge=lhr] [data-testid=status]').innerText(), 'out (drain)');
      const answer = await until('London moved off lhr', async () => {
        const a = await dig(cm.dnsPort, LONDON);
        return a && a !== '198.18.4.10' ? a : undefined;
      });
      assert.equal(answer, '198.18.1.10', 'the nearest other edge to London is Frankfurt');
    });

    it('the audit page shows the drain with its before and after', async () => {
      const page = await open(viewer);
      await page.goto(`${cm.url}/ui/#/changes`);
      // A viewer names token actors by id (token names are admins' to read).
      await page.getByLabel('Actor').fill(`token:#${operatorId}`);
      await page.getByRole('button', { name: 'Filter' }).click();
      const entry = page.locator('[data-testid=audit] li', { hasText: 'ui test: drain London' });
      await entry.waitFor(WAIT);
      // The actor filter applies: only the operator's one record is left.
      await until('the filtered audit log', async () =>
        (await page.locator('[data-testid=audit] li').count()) === 1 ? true : undefined,
      );
      await entry.locator('summary').click();
      const diff = entry.locator('table[aria-label="before and after"]');
      assert.match(await diff.locator('tr', { hasText: '/kind' }).innerText(), /\/kind\s+\(none\)\s+"drain"/);
      assert.match(await diff.locator('tr', { hasText: '/edge' }).first().innerText(), /"lhr"/);
      await page.locator('[data-testid=actions] tr', { hasText: 'ui test: drain London' }).waitFor(WAIT);
      await axe(page, 'changes', axeSource);
      await screenshot(page, shots, 'changes');
    });

    it('in approval mode an alert makes a run appear and advance live; approve, then abort', async () => {
      const pb = await call(cm.url, cm.admin, '/v1/playbooks/shed-overloaded-edge');
      const put = await call(
        cm.url,
        cm.admin,
        '/v1/playbooks/shed-overloaded-edge',
        { ...pb.body, mode: 'approve' },
        'PUT',
      );
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const page = await open(operator);
      await page.goto(`${cm.url}/ui/#/runs`);
      await page.getByTestId('no-active-runs').waitFor(WAIT);

      const startsAt = new Date().toISOString();
      const alert = await call(cm.url, operator, '/v1/signals/alertmanager', {
        version: '4',
        status: 'firing',
        receiver: 'catchment',
        groupKey: '{}:{alertname="EdgeOverloaded"}',
        truncatedAlerts: 0,
        groupLabels: {},
        commonLabels: {},
        commonAnnotations: {},
        externalURL: 'http://alertmanager.invalid',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'EdgeOverloaded', edge: 'syd' },
            annotations: {},
            startsAt,
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: 'http://prometheus.invalid',
            fingerprint: `ui-${process.pid}`,
          },
        ],
      });
      assert.equal(alert.status, 200, JSON.stringify(alert.body));

      // No reload from here on: the page follows the run by itself.
      const card = page.locator('article.run').first();
      await card.locator('li[data-state=awaiting-approval]').waitFor(WAIT);
      assert.match(await card.locator('h2').innerText(), /shed-overloaded-edge on syd/);
      const runId = Number(await card.getAttribute('data-run'));
      await axe(page, 'runs', axeSource);
      await card.getByRole('button', { name: `Approve run ${runId}` }).click();
      const dialog = page.getByTestId('action-dialog');
      await dialog.getByLabel(/Reason/).fill('ui test: approve the shift');
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.getByRole('status').waitFor(WAIT);
      await dialog.getByRole('button', { name: 'Close' }).click();
      await card.locator('li[data-state=applied][data-kind=dns-shift]').waitFor(WAIT);
      const step = (await call(cm.url, cm.admin, `/v1/runs/${runId}`)).body.steps.find(
        (s: { kind: string; state: string }) => s.kind === 'dns-shift' && s.state === 'applied',
      );
      assert.ok(step?.decidedBy?.includes(`operator-${process.pid}`), 'approved by the operator');
      await screenshot(page, shots, 'run');
      if (KEEP_SCREENSHOTS && mode === 'pglite') {
        await copyFile(join(shots, 'run.png'), join(KEEP_SCREENSHOTS, 'dashboard-run.png'));
        await copyFile(join(shots, 'map.png'), join(KEEP_SCREENSHOTS, 'dashboard-map.png'));
      }

      await card.getByRole('button', { name: `Abort run ${runId}` }).click();
      await dialog.getByLabel(/Reason/).fill('ui test: abort');
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.getByRole('status').waitFor(WAIT);
      await dialog.getByRole('button', { name: 'Close' }).click();
      await page.locator(`tr[data-run="${runId}"]`, { hasText: 'aborted' }).waitFor(WAIT);
      const aborted = (await call(cm.url, cm.admin, `/v1/runs/${runId}`)).body;
      assert.equal(aborted.state, 'aborted');
      const runActions = (await call(cm.url, cm.admin, '/v1/actions?active=true')).body.items.filter(
        (a: { runId: number | null }) => a.runId === runId,
      );
      assert.deepEqual(runActions, [], "the abort reverted the run's actions");
      await page.goto(`${cm.url}/ui/#/runs/${runId}`);
      await page.locator(`article.run[data-run="${runId}"][data-state=aborted]`).waitFor(WAIT);
      await screenshot(page, shots, 'run-aborted');
    });

    it('explain shows what /v1/explain answers', async () => {
      const page = await open(viewer);
      await page.goto(`${cm.url}/ui/#/explain`);
      await page.getByLabel('Name').fill('www.example.net');
      await page.getByLabel(/Client IP/).fill('216.160.83.56');
      await page.getByRole('button', { name: 'Explain' }).click();
      await page.getByTestId('explain-result').waitFor(WAIT);
      const api = (await call(cm.url, viewer, '/v1/explain?name=www.example.net&client=216.160.83.56')).body.decision;
      assert.equal(await page.getByTestId('explain-edge').innerText(), api.edge);
      assert.equal(
        await page.getByTestId('explain-addresses').innerText(),
        [...api.addresses.v4, ...api.addresses.v6].join(', '),
      );
      assert.equal(await page.getByTestId('explain-reason').innerText(), api.reason);
      const trace = await page.locator('[data-testid=explain-trace] li').allInnerTexts();
      assert.deepEqual(
        trace,
        api.trace.map((t: { step: string; detail: string }) => `${t.step}: ${t.detail}`),
      );
      await axe(page, 'explain', axeSource);
      await screenshot(page, shots, 'explain');
    });

    it('consumers show versions and lag, with the stale one highlighted', async () => {
      const page = await open(viewer);
      await page.goto(`${cm.url}/ui/#/consumers`);
      await page.locator('tr[data-consumer=dns-stuck][data-stale=true]').waitFor(WAIT);
      // The in-process DNS server reports every second: it is on the latest version.
      await page.locator('tr[data-consumer^=dns-][data-stale=false]').first().waitFor(WAIT);
      await axe(page, 'consumers', axeSource);
      await screenshot(page, shots, 'consumers');
    });

    it('says so when the API is unreachable, and recovers', async () => {
      const page = await open(viewer);
      await page.goto(`${cm.url}/ui/#/consumers`);
      await page.getByTestId('consumers').waitFor(WAIT);
      await page.route('**/v1/**', (route) => route.abort('connectionrefused'));
      await page.getByTestId('unreachable').waitFor(WAIT);
      await screenshot(page, shots, 'unreachable');
      await page.unroute('**/v1/**');
      await page.getByTestId('unreachable').waitFor({ ...WAIT, state: 'detached' });
    });

    it('the login page passes axe and a wrong token is refused', async () => {
      const page = await browser.context.newPage();
      pages.push(page);
      await page.goto(`${cm.url}/ui/`);
      await page.getByLabel('API token').fill('ct_nope.nope');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').waitFor(WAIT);
      assert.match(await page.getByRole('alert').innerText(), /UNAUTHORIZED/);
      await axe(page, 'login', axeSource);
      await screenshot(page, shots, 'login');
    });

    it('admin tokens page: list, create (the secret shown once), revoke; not offered to operators or viewers', async () => {
      for (const t of [viewer, operator]) {
        const page = await open(t);
        assert.equal(await page.getByRole('link', { name: 'Tokens' }).count(), 0, 'no Tokens link');
        await page.goto(`${cm.url}/ui/#/tokens`);
        await page.getByTestId('tokens-forbidden').waitFor(WAIT);
        assert.equal(await page.getByRole('button', { name: 'Create token' }).count(), 0);
        assert.equal((await call(cm.url, t, '/v1/tokens')).body.code, 'FORBIDDEN', 'the API refuses anyway');
      }
      const page = await open(cm.admin);
      await page.getByRole('link', { name: 'Tokens' }).click();
      await page.locator(`[data-testid=tokens] tr[data-token=operator-${process.pid}]`).waitFor(WAIT);
      const name = `ui-made-${process.pid}`;
      await page.getByLabel('Name').fill(name);
      await page.getByLabel('Role').selectOption('viewer');
      await page.getByRole('button', { name: 'Create token' }).click();
      const secret = page.getByTestId('token-secret');
      await secret.waitFor(WAIT);
      const made = (await secret.locator('code').textContent())?.trim() ?? '';
      assert.match(made, /^ct_/);
      assert.equal((await call(cm.url, made, '/v1/whoami')).body.role, 'viewer', 'the shown secret works');
      await page.locator(`[data-testid=tokens] tr[data-token=${name}]`).waitFor(WAIT);
      await axe(page, 'tokens', axeSource);
      await screenshot(page, shots, 'tokens');
      await secret.getByRole('button', { name: 'I have copied it' }).click();
      assert.equal(await page.getByTestId('token-secret').count(), 0, 'shown once');
      assert.doesNotMatch(
        await page.content(),
        new RegExp(made.replace(/[.]/g, '\\.')),
        'nowhere on the page any more',
      );
      page.once('dialog', (d) => void d.accept('ui test: revoke'));
      await page.getByRole('button', { name: `Revoke ${name}` }).click();
      await page.locator(`[data-testid=tokens] tr[data-token=${name}] td`, { hasText: /^revoked/ }).waitFor(WAIT);
      assert.equal((await call(cm.url, made, '/v1/whoami')).status, 401, 'revoked at once');
    });

    it('load history: the API serves what agents reported, and the edge chart draws it', async () => {
      const latest = (await call(cm.url, cm.admin, '/v1/snapshot')).body.version as number;
      for (const rps of [18000, 21000]) {
        const r = await call(cm.url, cm.admin, '/v1/reports', {
          consumer: 'edge:syd',
          kind: 'edge',
          edge: 'syd',
          snapshotVersion: latest,
          healthy: true,
          load: { rps },
        });
        assert.equal(r.status, 202, JSON.stringify(r.body));
      }
      const h = await call(cm.url, viewer, '/v1/edges/syd/load?since=1h&step=1m');
      assert.equal(h.status, 200, JSON.stringify(h.body));
      assert.equal(h.body.capacityRps, 20000);
      const samples = h.body.points.reduce((n: number, p: { samples: number }) => n + p.samples, 0);
      assert.ok(samples >= 3, `three reports or more in the last hour: ${JSON.stringify(h.body.points)}`);
      const max = Math.max(...h.body.points.map((p: { maxRps: number }) => p.maxRps));
      assert.equal(max, 21000);
      const bad = await call(cm.url, viewer, '/v1/edges/syd/load?step=30s');
      assert.equal(bad.body.code, 'INVALID_QUERY');
      assert.equal((await call(cm.url, viewer, '/v1/edges/nowhere/load')).body.code, 'NOT_FOUND');

      // A fresh tab (no history of its own) draws the server's minutes.
      const page = await open(viewer);
      await page.goto(`${cm.url}/ui/#/edges/syd`);
      const chart = page.getByTestId('load-chart');
      // Drawn from the API's answer (the caption counts its minutes), not from this tab's own samples.
      await chart.locator('figcaption', { hasText: /\([1-9]\d* minutes? with reports\)/ }).waitFor(WAIT);
      assert.ok((await chart.locator('canvas').count()) > 0, 'uPlot drew');
    });

    it('pins on the edge page: shown with their reason and expiry, revertable', async () => {
      const pin = await call(cm.url, cm.admin, '/v1/pins', {
        edge: 'iad',
        cidr: '192.0.2.0/24',
        reason: 'ui test: customer on iad',
        ttl: '1h',
      });
      assert.equal(pin.status, 201, JSON.stringify(pin.body));
      const id = pin.body.action.id as number;
      const seen = await open(viewer);
      await seen.goto(`${cm.url}/ui/#/edges/iad`);
      const row = seen.locator(`[data-testid=pins] tr[data-pin="${id}"]`);
      await row.waitFor(WAIT);
      assert.match(
        await row.innerText(),
        /192\.0\.2\.0\/24\s+every service\s+ui test: customer on iad\s+[\d.]+ (min|h)\s+yes/,
      );
      assert.equal(await seen.getByRole('button', { name: `Unpin ${id}` }).count(), 0, 'a viewer cannot unpin');

      const page = await open(operator);
      await page.goto(`${cm.url}/ui/#/edges/iad`);
      await page.locator(`[data-testid=pins] tr[data-pin="${id}"] td`, { hasText: 'yes' }).waitFor(WAIT);
      await axe(page, 'edge pins', axeSource);
      await page.getByRole('button', { name: `Unpin ${id}` }).click();
      const dialog = page.getByTestId('action-dialog');
      await dialog.getByLabel(/Reason/).fill('ui test: unpin');
      await dialog.getByRole('button', { name: 'Preview changes' }).click();
      await dialog.getByTestId('dry-run').locator('tr', { hasText: '/pins' }).first().waitFor(WAIT);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.getByRole('status').waitFor(WAIT);
      await dialog.getByRole('button', { name: 'Close' }).click();
      await page.getByTestId('pins-none').waitFor(WAIT);
      assert.equal((await call(cm.url, cm.admin, '/v1/pins')).body.items.length, 0);
    });

    it("the edge page shows an SLO objective's error budget left and its burn rates, as the controller evaluated them", async () => {
      const slo = 'lhr-errors';
      const created = await call(cm.url, cm.admin, '/v1/slos', {
        name: slo,
        edge: 'lhr',
        metric: 'error-rate',
        enter: 0.05,
        exit: 0.02,
        window: '5m',
        objective: OBJECTIVE,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      type Evaluated = { budgetRemaining: number | null; windows: Record<string, { burnRate: number | null }> };
      const lhr = await until(
        'the controller evaluated the objective from Prometheus',
        async () => {
          const b = await call(cm.url, viewer, `/v1/slos/${slo}/budget`);
          const e = (b.body.edges as (Evaluated & { edge: string })[]).find((x) => x.edge === 'lhr');
          const complete =
            e && e.budgetRemaining !== null && Object.values(e.windows).every((w) => w.burnRate !== null);
          return complete ? e : undefined;
        },
        90_000,
      );
      // 1 bad in 5000 against 1 in 1000 allowed: burning at 0.2x in every window, 80 % left.
      assert.ok(Math.abs((lhr.budgetRemaining ?? 0) - 0.8) < 1e-6, JSON.stringify(lhr));
      assert.deepEqual(Object.keys(lhr.windows).sort(), objectiveWindows(OBJECTIVE).sort());

      const page = await open(viewer);
      await page.goto(`${cm.url}/ui/#/edges/lhr`);
      const shown = page.getByTestId(`budget-${slo}`);
      await shown.waitFor(WAIT);
      const text = (await shown.textContent())?.replace(/\s+/g, ' ') ?? '';
      assert.match(text, /80 % of 28d budget left \(objective 99\.9 %\)/);
      for (const w of objectiveWindows(OBJECTIVE)) assert.ok(text.includes(`${w} 0.2×`), `burn over ${w} in "${text}"`);
      assert.doesNotMatch(text, /burning/, 'no pair burns faster than its factor');
      assert.equal(await shown.getAttribute('class'), '');
      await axe(page, 'edge SLO budget', axeSource);
    });
  });
}
