import { createServer, type Server } from 'node:http';
import type { Snapshot } from '@catchment/core';
import type { Endpoint } from './listener.ts';
import type { DnsMetrics } from './metrics.ts';

/** /metrics (after `refresh`), /healthz and /readyz (ready: answering from a snapshot). */
export async function startHealthEndpoint(
  at: Endpoint,
  metrics: DnsMetrics,
  refresh: () => Promise<void>,
  current: () => Snapshot | undefined,
): Promise<{ server: Server; port: number | undefined }> {
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      await refresh();
      res.setHeader('content-type', metrics.registry.contentType);
      res.end(await metrics.registry.metrics());
    } else if (req.url === '/healthz') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'ok' }));
    } else if (req.url === '/readyz') {
      const snap = current();
      res.statusCode = snap ? 200 : 503;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ready: snap !== undefined, snapshotVersion: snap?.version ?? null }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.address, () => resolve());
  });
  const a = server.address();
  return { server, port: typeof a === 'object' && a ? a.port : undefined };
}
