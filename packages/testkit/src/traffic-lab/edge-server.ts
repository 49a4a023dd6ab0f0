import { rmSync } from 'node:fs';
import http from 'node:http';

/**
 * The HTTP server of one lab edge, run inside the edge's namespace: listens on port 80 of
 * every address there (the edge's unicast /24 and /48 and, on the large edges, both anycast
 * supernets, all routed to loopback), answers with the edge's name (body and `x-served-by`),
 * and serves `/big?size=&chunkMs=` as a paced long download. Its own counters are exposed in
 * the Prometheus text format on a Unix socket (`metricsSocket`), which the lab's metrics
 * proxy serves to Prometheus and to the edge agent in the root namespace.
 *   node edge-server.ts <edge> <metricsSocket>
 */
const name = process.argv[2] ?? 'edge';
const socket = process.argv[3] ?? '';
let requests = 0;
let downloads = 0;
let open = 0;

const server = http.createServer((req, res) => {
  requests++;
  const url = new URL(req.url ?? '/', 'http://lab');
  res.setHeader('x-served-by', name);
  if (url.pathname !== '/big') {
    res.end(name);
    return;
  }
  downloads++;
  const size = Math.min(Math.max(Number(url.searchParams.get('size') ?? 0), 0), 64 * 1024 * 1024);
  const every = Math.min(Math.max(Number(url.searchParams.get('chunkMs') ?? 10), 1), 1000);
  const chunk = Buffer.alloc(16 * 1024, 120);
  let sent = 0;
  res.setHeader('content-length', size);
  const timer = setInterval(() => {
    if (sent >= size) {
      clearInterval(timer);
      res.end();
      return;
    }
    const n = Math.min(chunk.length, size - sent);
    res.write(chunk.subarray(0, n));
    sent += n;
  }, every);
  res.on('close', () => clearInterval(timer));
});
server.on('connection', (s) => {
  open++;
  s.on('close', () => open--);
});
server.keepAliveTimeout = 5000;

const metrics = http.createServer((_req, res) => {
  res.setHeader('content-type', 'text/plain; version=0.0.4');
  res.end(
    [
      '# HELP catchment_lab_http_requests_total HTTP requests served by this edge.',
      '# TYPE catchment_lab_http_requests_total counter',
      `catchment_lab_http_requests_total{edge="${name}"} ${requests}`,
      '# HELP catchment_lab_http_downloads_total Long downloads started at this edge.',
      '# TYPE catchment_lab_http_downloads_total counter',
      `catchment_lab_http_downloads_total{edge="${name}"} ${downloads}`,
      '# HELP catchment_lab_http_open_connections TCP connections open at this edge.',
      '# TYPE catchment_lab_http_open_connections gauge',
      `catchment_lab_http_open_connections{edge="${name}"} ${open}`,
      '',
    ].join('\n'),
  );
});

rmSync(socket, { force: true });
// Both families: the IPv4 and IPv6 addresses routed to loopback.
server.listen({ port: 80, host: '::', ipv6Only: false }, () => {
  metrics.listen(socket, () => process.stdout.write('ready\n'));
});
const stop = () => {
  server.closeAllConnections();
  server.close();
  metrics.close();
  rmSync(socket, { force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
