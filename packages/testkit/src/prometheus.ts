import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { promQuery } from '@catchment/core';
import { freePort } from './ports.ts';
import { tempDir } from './tmp.ts';
import { until } from './wait.ts';

const execFileAsync = promisify(execFile);

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

/**
 * A real Prometheus (Debian package) scraping `targets` every second, in a temporary folder.
 * `backfill` (OpenMetrics text, ending in `# EOF`) is written into its database first with
 * `promtool tsdb create-blocks-from openmetrics`, so a test can have days of history at once.
 */
export async function startPrometheus(
  targets: string[],
  opts: { backfill?: string } = {},
): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await tempDir('catchment-prom-');
  const port = await freePort();
  if (opts.backfill !== undefined) {
    await writeFile(join(dir.path, 'backfill.om'), opts.backfill);
    await execFileAsync(
      'promtool',
      ['tsdb', 'create-blocks-from', 'openmetrics', join(dir.path, 'backfill.om'), join(dir.path, 'data')],
      {
        timeout: 60_000,
      },
    ).catch(async (err) => {
      await dir.remove();
      throw new Error(`promtool could not backfill: ${(err as Error).message}`);
    });
  }
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
      targets.length > 0 ? 'Prometheus scraping the edges' : 'Prometheus ready',
      async () =>
        targets.length > 0
          ? (await promQuery(url, 'up{job="edges"}')).some((s) => s.value === 1)
          : (await fetch(`${url}/-/ready`)).ok,
      30_000,
    );
  } catch (err) {
    await stop();
    throw new Error(`Prometheus did not scrape its targets: ${(err as Error).message}\n${stderr}`);
  }
  return { url, stop };
}
