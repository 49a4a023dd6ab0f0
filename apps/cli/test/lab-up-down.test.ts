import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CATCHMENT_CLI, stopChild, tempDir, until } from '@catchment/testkit';

/**
 * `catchment lab` as an evaluator runs it: up, traffic printed every second, an operator
 * action through the CLI that moves a region's traffic, then `catchment lab down` from another
 * shell, after which no namespace, pinned BPF object or process of the lab is left. TMPDIR
 * keeps this lab's state file apart from an operator's own lab.
 */
test('catchment lab: up, traffic moves on an operator action, down leaves nothing behind', {
  skip: process.getuid?.() !== 0,
  timeout: 420_000,
}, async () => {
  const tmp = await tempDir('lab-cli-');
  after(() => tmp.remove());
  // The lab's PostgreSQL runs as the postgres user in a folder under TMPDIR.
  chmodSync(tmp.path, 0o755);
  const env = { ...process.env, TMPDIR: tmp.path, NODE_TEST_CONTEXT: '', CATCHMENT_LOG_LEVEL: 'warn' };
  const [node = '', main = ''] = CATCHMENT_CLI;
  const cli = (...args: string[]) => spawnSync(node, [main, ...args], { env, encoding: 'utf8', timeout: 120_000 });
  const labProc = spawn(node, [main, 'lab', '--rate', '8', '--rate6', '2', '--minutes', '5'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  after(() => stopChild(labProc, 60_000));
  let out = '';
  let err = '';
  labProc.stdout.on('data', (d) => {
    out += d;
  });
  labProc.stderr.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => labProc.once('exit', (code) => resolve(code)));

  // A second's line: "12:00:01  de: fra 8  |  gb: lhr 7  |  ...".
  const lines = () => out.split('\n').filter((l) => /^\d\d:\d\d:\d\d {2}/.test(l));
  const gbEdges = (line: string) => {
    const part = line.split('|').find((p) => p.trim().startsWith('gb:')) ?? '';
    return [...part.matchAll(/([a-z]+) (\d+)/g)].map((m) => m[1] ?? '');
  };
  await until('the lab is up', () => out.includes('lab up: API') || labProc.exitCode !== null, 300_000, 500);
  assert.equal(labProc.exitCode, null, `the lab ended early: ${err}`);
  const state = JSON.parse(readFileSync(join(tmp.path, 'catchment-lab.json'), 'utf8')) as {
    pid: number;
    prefix: string;
    apiUrl: string;
    token: string;
  };
  assert.equal(state.pid, labProc.pid);
  const home = await until(
    'gb connections served',
    () =>
      lines()
        .slice(-3)
        .map(gbEdges)
        .find((e) => e.length === 1)?.[0],
    60_000,
    500,
  );
  assert.equal(home, 'lhr', 'gb lands at lhr, its nearest edge');

  // The evaluator withdraws lhr's /24 through the CLI; new gb connections land at the supernet.
  Object.assign(env, { CATCHMENT_API_URL: state.apiUrl, CATCHMENT_API_TOKEN: state.token });
  await until(
    'the withdrawal accepted (agents have reported what they export)',
    () => cli('withdraw', '198.18.4.0/24', '--reason', 'lab test').status === 0,
    60_000,
    2000,
  );
  const seenBefore = lines().length;
  const moved = await until(
    'gb served elsewhere',
    () => {
      const edges = lines()
        .slice(seenBefore + 1)
        .map(gbEdges)
        .find((e) => e.length > 0 && !e.includes('lhr'));
      return edges?.join(',');
    },
    60_000,
    500,
  );
  assert.ok(!moved.includes('lhr'), moved);

  const down = cli('lab', 'down');
  assert.equal(down.status, 0, down.stderr);
  assert.match(down.stdout, /lab down: no namespace, process or pinned BPF object left/);
  assert.equal(await exited, 0, `the lab tore itself down cleanly: ${err}`);
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  assert.deepEqual(
    netns.split('\n').filter((l) => l.startsWith(state.prefix)),
    [],
    'no namespace left',
  );
  assert.deepEqual(
    readdirSync('/sys/fs/bpf').filter((n) => n.startsWith(state.prefix)),
    [],
    'no pinned BPF object left',
  );
  const procs = spawnSync('pgrep', ['-af', state.prefix], { encoding: 'utf8' }).stdout.trim();
  assert.equal(procs, '', 'no process of the lab left');
  assert.equal(existsSync(join(tmp.path, 'catchment-lab.json')), false, 'the state file is gone');
});
