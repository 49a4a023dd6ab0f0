// CLI latency against a local API: each command run as a process, as an operator runs it.
// Usage: node bench/cli.ts [runs per command, default 10, at most 50] [another checkout].
// Medians and minima in ms.
// The API runs in this process on an in-memory PGlite loaded with the demo configuration.
// Three ways of running `catchment` are timed, runs interleaved so that the machine's load
// falls on each alike:
//   sources   node apps/cli/src/main.ts: the TypeScript sources, type-stripped at each start
//   checkout  ./run catchment: the checkout's prebuilt bundle (apps/cli/bin/catchment.mjs)
//   release   the release's bundle (scripts/release/bundle.ts, as `pnpm release` builds it)
//   before, before ./run   the same two ways of another checkout (e.g. a worktree of an older
//                          commit, set up with its scripts/setup.sh), when one is given
// with two floors measured the same way: a bare Node start, and Node sending one request.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createToken, startApi } from '../apps/api/src/index.ts';
import { loadConfigFile } from '../packages/core/src/index.ts';
import { importConfig, migrate, openDatabase, publishSnapshot } from '../packages/db/src/index.ts';
import { bundleCli } from '../scripts/cli-bundle.ts';
import { bundle } from '../scripts/release/bundle.ts';

// The API answers in this process: the CLI must run asynchronously, not block its event loop.
const run = promisify(execFile);
const runs = Math.min(50, Math.max(1, Number(process.argv[2] ?? 10)));
// Bounded in time as well as in count: what is measured by then is reported.
const deadline = Date.now() + 10 * 60_000;
const root = path.resolve(import.meta.dirname, '..');
const DEMO = path.join(root, 'config/demo.yaml');
process.env.CATCHMENT_LOG_LEVEL ??= 'warn';

const lib = mkdtempSync(path.join(tmpdir(), 'catchment-bench-cli-'));
await bundle(root, lib);
await bundleCli();
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

const node = process.execPath;
const floors: [string, string[]][] = [
  ['`node -e 0` (bare Node start)', [node, '-e', '0']],
  [
    'Node sending one GET /healthz (node:http)',
    [node, '-e', `require('node:http').get(${JSON.stringify(`${api.url}/healthz`)}, (r) => r.resume())`],
  ],
];
const before = process.argv[3] ? path.resolve(process.argv[3]) : undefined;
const ways: Record<string, string[]> = {
  ...(before
    ? {
        before: [node, path.join(before, 'apps/cli/src/main.ts')],
        'before ./run': [path.join(before, 'run'), 'catchment'],
      }
    : {}),
  sources: [node, path.join(root, 'apps/cli/src/main.ts')],
  checkout: [path.join(root, 'run'), 'catchment'],
  release: [node, path.join(lib, 'catchment.mjs')],
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

async function time(argv: string[]): Promise<number> {
  const t0 = performance.now();
  try {
    await run(argv[0]!, argv.slice(1), { env, cwd: root });
  } catch (err) {
    // plan exits 2 when there are changes; anything else is a failure.
    if ((err as { code?: number }).code !== 2) throw err;
  }
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const cells = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)})`;
const floorTimes = floors.map(() => [] as number[]);
const times = commands.map(() => Object.fromEntries(Object.keys(ways).map((w) => [w, [] as number[]])));
// One warm-up run of each (Node's compile cache, the page cache), not counted.
for (const argv of Object.values(ways)) await time([...argv, 'version']);
let done = 0;
for (; done < runs && Date.now() < deadline; done++) {
  for (const [i, [, argv]] of floors.entries()) floorTimes[i]!.push(await time(argv));
  for (const [i, args] of commands.entries()) {
    for (const [w, argv] of Object.entries(ways)) times[i]![w]!.push(await time([...argv, ...args]));
  }
}

const bare = median(floorTimes[0]!);
console.log(`${done} runs each; median (min) ms; ratio = median / bare Node start (${bare.toFixed(0)} ms)\n`);
for (const [i, [name]] of floors.entries()) console.log(`- ${name}: ${cells(floorTimes[i]!)} ms`);
console.log(`\n| command | ${Object.keys(ways).join(' | ')} | ratio (${Object.keys(ways).join(', ')}) |`);
console.log(
  `| --- | ${Object.keys(ways)
    .map(() => '---:')
    .join(' | ')} | ---: |`,
);
for (const [i, args] of commands.entries()) {
  const row = times[i]!;
  const ratios = Object.values(row).map((t) => (median(t) / bare).toFixed(1));
  const name = `\`catchment ${args.join(' ').replace(DEMO, 'config/demo.yaml')}\``;
  console.log(`| ${name} | ${Object.values(row).map(cells).join(' | ')} | ${ratios.join(', ')} |`);
}
await api.close();
await database.close();
rmSync(lib, { recursive: true, force: true });
