import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { BgpLab } from '@catchment/testkit/bgp-lab';
import { labWorld } from '@catchment/testkit/lab-world';
import { SnapshotApi } from '@catchment/testkit/snapshot-api';

const MAIN = join(import.meta.dirname, '../src/main.ts');

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

test('the agent process: metrics endpoint, SIGTERM with GRACEFUL_SHUTDOWN keeps the routes', async (t) => {
  const lab = await BgpLab.create({ edges: ['fra'] });
  t.after(() => lab.destroy());
  const api = await SnapshotApi.start();
  t.after(() => api.close());
  api.publish(labWorld(['fra'], ['fra']));
  const e = lab.edge('fra');
  const port = await freePort();
  const procs = new Set<ChildProcess>();
  let stderr = '';
  t.after(() => {
    // The agents' logs, for a failure's diagnosis.
    if (stderr && process.env.CATCHMENT_TEST_VERBOSE) console.error(stderr);
  });
  t.after(() => {
    for (const p of procs) p.kill('SIGKILL');
  });
  const run = (graceful: boolean) => {
    const p = spawn(process.execPath, [MAIN], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        CATCHMENT_EDGE: 'fra',
        CATCHMENT_API_URL: api.url,
        CATCHMENT_API_TOKEN: api.token,
        CATCHMENT_EDGE_CACHE: join(e.dir, 'snapshot.json'),
        BIRD_SOCKET: e.socket,
        BIRD_CONFIG: e.mainConfig,
        BIRD_INCLUDE: e.includeFile,
        CATCHMENT_EDGE_HTTP: `127.0.0.1:${port}`,
        CATCHMENT_EDGE_GRACEFUL_SHUTDOWN: graceful ? '1' : '0',
        CATCHMENT_EDGE_GRACEFUL_WAIT_MS: '200',
        CATCHMENT_LOG_LEVEL: 'warn',
      },
    });
    procs.add(p);
    const keep = (c: Buffer) => {
      stderr += c;
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    p.on('exit', () => procs.delete(p));
    return p;
  };
  const normal = [
    'fra4 198.18.0.0/20',
    'fra4 198.18.1.0/24 64500:100',
    'fra6 2001:db8:100::/40',
    'fra6 2001:db8:101::/48',
  ];
  const waitView = (expected: string[], what: string) =>
    lab.waitFor(async () => JSON.stringify(await lab.transitView()) === JSON.stringify(expected), 20_000, what);

  const first = run(true);
  await waitView(normal, 'the agent process announcing');
  await lab.waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
    10_000,
    'readyz',
  );
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.match(metrics, /catchment_edge_announcements\{state="announced",edge="fra"\} 4/);

  const exited = new Promise<number | null>((r) => first.once('exit', (code) => r(code)));
  first.kill('SIGTERM');
  assert.equal(await exited, 0);
  const drained = [
    'fra4 198.18.0.0/20 GRACEFUL_SHUTDOWN',
    'fra4 198.18.1.0/24 64500:100 GRACEFUL_SHUTDOWN',
    'fra6 2001:db8:100::/40 GRACEFUL_SHUTDOWN',
    'fra6 2001:db8:101::/48 GRACEFUL_SHUTDOWN',
  ];
  assert.deepEqual(await lab.transitView(), drained, 'announced with GRACEFUL_SHUTDOWN, never withdrawn');

  const second = run(false);
  await waitView(normal, 'the next start drops GRACEFUL_SHUTDOWN');
  const exited2 = new Promise<number | null>((r) => second.once('exit', (code) => r(code)));
  second.kill('SIGTERM');
  assert.equal(await exited2, 0);
  assert.deepEqual(await lab.transitView(), normal, 'a plain stop changes nothing');
});
