import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promQuery } from '@catchment/core';
import { freePort } from './ports.ts';
import { onAbruptEnd, type Proc, startProc } from './procs.ts';
import { tempDir } from './tmp.ts';
import { until } from './wait.ts';

/**
 * A real Alertmanager (Debian `prometheus-alertmanager`, no clustering) that sends
 * version-4 webhooks to the API's intake with the API token, at once (group_wait 0s) and
 * on resolution; and a real Prometheus that scrapes the test's load exporter every second,
 * evaluates the overload rule every second and sends its alerts to that Alertmanager.
 */
export interface Monitoring {
  prometheusUrl: string;
  alertmanagerUrl: string;
  /** Pushes an alert to Alertmanager's API directly (endsAt in the past resolves it). */
  pushAlert(labels: Record<string, string>, resolved: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** Utilisation above which the rule fires; the exporter serves load and capacity per edge. */
export const OVERLOAD_RULE = 'catchment_edge_load_rps / catchment_edge_capacity_rps > 0.9';

export async function startMonitoring(opts: {
  apiUrl: string;
  token: string;
  exporter: string;
  /** The EdgeOverloaded rule's expression (default OVERLOAD_RULE). */
  rule?: string;
}): Promise<Monitoring> {
  const dir = await tempDir('catchment-e2e-mon-');
  const procs: Proc[] = [];
  const forget = onAbruptEnd(() => rmSync(dir.path, { recursive: true, force: true }));
  const stop = async () => {
    for (const p of procs.reverse()) await p.stop();
    forget();
    await dir.remove();
  };
  try {
    const amPort = await freePort();
    const amUrl = `http://127.0.0.1:${amPort}`;
    await writeFile(
      join(dir.path, 'alertmanager.yml'),
      [
        'route:',
        '  receiver: catchment',
        "  group_by: ['alertname', 'edge']",
        '  group_wait: 0s',
        '  group_interval: 1s',
        '  repeat_interval: 1h',
        'receivers:',
        '  - name: catchment',
        '    webhook_configs:',
        `      - url: ${opts.apiUrl}/v1/signals/alertmanager`,
        '        send_resolved: true',
        '        http_config:',
        '          authorization:',
        `            credentials: ${opts.token}`,
        '',
      ].join('\n'),
    );
    const am = startProc('alertmanager', 'prometheus-alertmanager', [
      `--config.file=${join(dir.path, 'alertmanager.yml')}`,
      `--storage.path=${join(dir.path, 'am')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ]);
    procs.push(am);
    await until('Alertmanager ready', async () => (await fetch(`${amUrl}/-/ready`)).ok, 30_000, 200).catch((e) => {
      throw new Error(`${(e as Error).message}\n${am.tail()}`);
    });

    const promPort = await freePort();
    const promUrl = `http://127.0.0.1:${promPort}`;
    await writeFile(
      join(dir.path, 'rules.yml'),
      [
        'groups:',
        '  - name: catchment-e2e',
        '    interval: 1s',
        '    rules:',
        '      - alert: EdgeOverloaded',
        `        expr: ${opts.rule ?? OVERLOAD_RULE}`,
        '        labels: { severity: page }',
        '        annotations: { value: "{{ $value }}" }',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir.path, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        `rule_files: ["${join(dir.path, 'rules.yml')}"]`,
        'alerting:',
        '  alertmanagers:',
        `    - static_configs: [{ targets: ["127.0.0.1:${amPort}"] }]`,
        'scrape_configs:',
        '  - job_name: edges',
        `    static_configs: [{ targets: ["${opts.exporter}"] }]`,
        '',
      ].join('\n'),
    );
    const prom = startProc('prometheus', 'prometheus', [
      `--config.file=${join(dir.path, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir.path, 'prom')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ]);
    procs.push(prom);
    await until(
      'Prometheus scrapes the load exporter',
      async () => (await promQuery(promUrl, 'up{job="edges"}')).some((s) => s.value === 1),
      30_000,
      200,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}\n${prom.tail()}`);
    });

    return {
      prometheusUrl: promUrl,
      alertmanagerUrl: amUrl,
      async pushAlert(labels, resolved) {
        const now = Date.now();
        const body = [
          {
            labels,
            annotations: { summary: 'pushed by the end-to-end test' },
            startsAt: new Date(now - 1000).toISOString(),
            ...(resolved ? { endsAt: new Date(now - 500).toISOString() } : {}),
          },
        ];
        const res = await fetch(`${amUrl}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        if (!res.ok) throw new Error(`Alertmanager refused the alert: ${res.status} ${await res.text()}`);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
