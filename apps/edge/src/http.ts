import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * /metrics (Prometheus), /healthz (alive), /readyz (a snapshot has been applied), /status (JSON),
 * /plan (dry run: what a reconcile would change at the speaker now).
 */
export async function startAgentHttp(
  host: string,
  port: number,
  registry: Registry,
  ready: () => boolean,
  status: () => unknown,
  plan: () => Promise<unknown>,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return json(405, { error: 'method not allowed' });
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: Error) => json(500, { error: err.message }),
      );
      return;
    }
    if (path === '/healthz') return json(200, { status: 'ok' });
    if (path === '/readyz') return ready() ? json(200, { status: 'ready' }) : json(503, { status: 'not ready' });
    if (path === '/status') return json(200, status());
    if (path === '/plan') {
      plan().then(
        (diff) => json(200, diff ?? { error: 'no snapshot yet' }),
        (err: Error) => json(503, { error: err.message }),
      );
      return;
    }
    json(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const h = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return { server, url: `http://${h}:${addr.port}` };
}
