import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promQuery } from '@catchment/core';
import { freePort } from './ports.ts';
import { tempDir } from './tmp.ts';
import { until } from './wait.ts';

/** A tiny load exporter on 127.0.0.1: serves whatever the test puts in `text()`. */
export async function startExporter(text: () => string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/metrics')) {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(text());
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A real Prometheus (Debian package) scraping `targets` every second, in a temporary folder. */
export async function startPrometheus(targets: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await tempDir('catchment-prom-');
  const port = await freePort();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: edges',
    '    static_configs:',
    `      - targets: [${targets.map((t) => `"${t}"`).join(', ')}]`,
    '',
  ].join('\n');
  await writeFile(join(dir.path, 'prometheus.yml'), config);
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir.path, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir.path, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await dir.remove();
  };
  try {
    await until(
      'Prometheus scraping the edges',
      async () => (await promQuery(url, 'up{job="edges"}')).some((s) => s.value === 1),
      30_000,
    );
  } catch (err) {
    await stop();
    throw new Error(`Prometheus did not scrape its targets: ${(err as Error).message}\n${stderr}`);
  }
  return { url, stop };
}
