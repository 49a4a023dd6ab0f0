// CLI latency against a local API: each command run as a process, as an operator runs it.
// Usage: node bench/cli.ts [runs per command, default 9]. Medians in ms; the API runs in
// this process on an in-memory PGlite loaded with the demo configuration.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createToken, startApi } from '../apps/api/src/index.ts';
import { loadConfigFile } from '../packages/core/src/index.ts';
import { importConfig, migrate, openDatabase, publishSnapshot } from '../packages/db/src/index.ts';

// The API answers in this process: the CLI must run asynchronously, not block its event loop.
const run = promisify(execFile);
const runs = Number(process.argv[2] ?? 9);
const MAIN = new URL('../apps/cli/src/main.ts', import.meta.url).pathname;
const DEMO = new URL('../config/demo.yaml', import.meta.url).pathname;
process.env.CATCHMENT_LOG_LEVEL ??= 'warn';
const database = await openDatabase({ dataDir: 'memory' });
await migrate(database);
await importConfig(database.db, await loadConfigFile(DEMO), { actor: 'bench' });
await publishSnapshot(database.db, { actor: 'bench' });
const token = (await createToken(database.db, { name: 'bench', role: 'admin' })).token;
const api = await startApi({ database, port: 0 });
const env = {
  PATH: process.env.PATH ?? '',
  HOME: '/nonexistent',
  CATCHMENT_API_URL: api.url,
  CATCHMENT_API_TOKEN: token,
};

const commands: string[][] = [
  ['version'],
  ['get', 'edges'],
  ['get', 'prefixes', '-o', 'json'],
  ['status'],
  ['describe', 'edge', 'lhr'],
  ['explain', 'www.example.net', '81.2.69.142'],
  ['drain', 'lhr', '--reason', 'bench', '--dry-run'],
  ['get', 'actions'],
  ['token', 'list'],
  ['plan', DEMO],
  ['zone', 'export', 'example.net'],
];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
// The floor on this machine: starting Node itself, measured the same way in the same session.
const bare: number[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  await run(process.execPath, ['-e', '0'], { env });
  bare.push(performance.now() - t0);
}
console.log(`| command | median ms | min ms | median / bare node |\n| --- | ---: | ---: | ---: |`);
console.log(`| \`node -e 0\` (bare Node start) | ${median(bare).toFixed(0)} | ${Math.min(...bare).toFixed(0)} | 1.0 |`);
for (const args of commands) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    try {
      await run(process.execPath, [MAIN, ...args], { env });
    } catch (err) {
      // plan exits 2 when there are changes; anything else is a failure.
      if ((err as { code?: number }).code !== 2) throw err;
    }
    times.push(performance.now() - t0);
  }
  console.log(
    `| \`catchment ${args.join(' ').replace(DEMO, 'config/demo.yaml')}\` | ${median(times).toFixed(0)} | ${Math.min(...times).toFixed(0)} | ${(median(times) / median(bare)).toFixed(1)} |`,
  );
}
await api.close();
await database.close();
