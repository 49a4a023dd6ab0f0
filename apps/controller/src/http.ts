import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthSource {
  registry: Registry;
  /** Readiness: the database answers. */
  ready(): Promise<{ ok: boolean; details: Record<string, unknown> }>;
}

/** /metrics (Prometheus), /healthz (the process runs), /readyz (the database answers, who leads). */
export async function startHttp(
  source: HealthSource,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(200, 'application/json', '{"status":"ok"}\n');
    if (path === '/metrics') {
      source.registry
        .metrics()
        .then((text) => send(200, source.registry.contentType, text))
        .catch((err: Error) => send(500, 'text/plain', `${err.message}\n`));
      return;
    }
    if (path === '/readyz') {
      source
        .ready()
        .then((r) =>
          send(
            r.ok ? 200 : 503,
            'application/json',
            `${JSON.stringify({ status: r.ok ? 'ready' : 'unready', ...r.details })}\n`,
          ),
        )
        .catch((err: Error) =>
          send(503, 'application/json', `${JSON.stringify({ status: 'unready', error: err.message })}\n`),
        );
      return;
    }
    send(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : port };
}
