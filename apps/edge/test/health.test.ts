import assert from 'node:assert/strict';
import { createServer as createHttp } from 'node:http';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { HealthMonitor, probe } from '../src/index.ts';

async function tcp(port = 0): Promise<Server> {
  const srv = createServer((s) => s.end());
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
  return srv;
}
const portOf = (s: { address(): unknown }) => (s.address() as { port: number }).port;

test('probes: TCP connect and HTTP status ranges', async (t) => {
  const srv = await tcp();
  const port = portOf(srv);
  await probe({ service: 's', kind: 'tcp', host: '127.0.0.1', port });
  await new Promise((r) => srv.close(r));
  await assert.rejects(probe({ service: 's', kind: 'tcp', host: '127.0.0.1', port }), /ECONNREFUSED/);

  let status = 200;
  const web = createHttp((req, res) => res.writeHead(req.url === '/health' ? status : 404).end());
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => web.close(r)));
  const spec = { service: 's', kind: 'http' as const, host: '127.0.0.1', port: portOf(web), path: '/health' };
  await probe(spec);
  status = 503;
  await assert.rejects(probe(spec), /HTTP 503/);
  await assert.rejects(probe({ ...spec, path: '/' }), /HTTP 404/);
  await probe({ ...spec, path: '/', okStatus: [200, 404] });
});

test('separate down and up thresholds, and a dwell before a service counts as up again', async (t) => {
  let srv = await tcp();
  const port = portOf(srv);
  const mon = new HealthMonitor([
    { service: 'www', kind: 'tcp', host: '127.0.0.1', port, intervalMs: 50, fall: 3, rise: 2, dwellMs: 400 },
  ]);
  const seen: string[] = [];
  mon.on('change', (s) => seen.push(s.state));
  t.after(async () => {
    mon.stop();
    await new Promise((r) => srv.close(r));
  });
  mon.start();
  assert.equal(mon.statuses()[0]?.state, 'up', 'checks start up: a restart withdraws nothing');
  await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => srv.close(r));
  const waitState = async (state: string, ms: number) => {
    const end = Date.now() + ms;
    while (mon.statuses()[0]?.state !== state) {
      if (Date.now() > end) assert.fail(`never reached ${state}: ${seen.join(' ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await waitState('down', 5000);
  assert.deepEqual([...mon.failingServices()], ['www']);
  assert.match(mon.statuses()[0]?.lastError ?? '', /ECONNREFUSED/);
  srv = await tcp(port);
  await waitState('recovering', 5000);
  assert.deepEqual([...mon.failingServices()], ['www'], 'still withdrawn while dwelling');
  await waitState('up', 5000);
  assert.deepEqual([...mon.failingServices()], []);
  assert.deepEqual(seen, ['down', 'recovering', 'up']);
});
