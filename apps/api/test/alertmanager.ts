import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { freePort, tempDir } from '@catchment/testkit';

export interface RunningAlertmanager {
  url: string;
  /** Pushes alerts through Alertmanager's own API (v2), as Prometheus would. */
  push(
    alerts: {
      labels: Record<string, string>;
      annotations?: Record<string, string>;
      startsAt: string;
      endsAt?: string;
    }[],
  ): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Alertmanager (Debian's prometheus-alertmanager) on 127.0.0.1, clustering off,
 * whose receivers post webhooks to `webhooks` (each with its own http_config auth).
 */
export async function startAlertmanager(
  webhooks: { url: string; auth: Record<string, unknown> }[],
): Promise<RunningAlertmanager> {
  const dir = await tempDir('catchment-am-');
  const port = await freePort();
  const receivers = webhooks.map((w, i) => ({
    name: `r${i}`,
    webhook_configs: [{ url: w.url, send_resolved: true, max_alerts: 0, http_config: w.auth }],
  }));
  const config = {
    route: {
      receiver: 'r0',
      group_by: ['alertname', 'edge'],
      group_wait: '100ms',
      group_interval: '1s',
      repeat_interval: '2s',
      routes: receivers.map((r) => ({ receiver: r.name, continue: true, matchers: ['alertname=~".+"'] })),
    },
    receivers,
  };
  await writeFile(`${dir.path}/am.yml`, JSON.stringify(config));
  const child: ChildProcess = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${dir.path}/am.yml`,
      '--cluster.listen-address=',
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.path=${dir.path}/data`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await dir.remove();
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {}
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`alertmanager did not become ready: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async push(alerts) {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      if (!res.ok) throw new Error(`alertmanager refused alerts: ${res.status} ${await res.text()}`);
    },
    stop,
  };
}
