import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local exporter for the load tests: serves `body()` as Prometheus text on /metrics,
 * counting its scrapes (the tests' clock advances one second per scrape, so rates are exact).
 */
export class TestExporter {
  scrapes = 0;
  status = 200;
  body: () => string = () => '';
  url = '';
  readonly #server: Server;

  private constructor() {
    this.#server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.scrapes++;
      res.writeHead(this.status, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(this.body());
    });
  }

  static async start(): Promise<TestExporter> {
    const e = new TestExporter();
    await new Promise<void>((r) => e.#server.listen(0, '127.0.0.1', r));
    e.url = `http://127.0.0.1:${(e.#server.address() as AddressInfo).port}/metrics`;
    return e;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

/** An nginx-exporter-like counter family with one series per server block. */
export function nginxText(servers: Record<string, number>): string {
  return [
    '# HELP nginx_http_requests_total Total http requests',
    '# TYPE nginx_http_requests_total counter',
    ...Object.entries(servers).map(([s, v]) => `nginx_http_requests_total{server="${s}",code="2xx"} ${v}`),
    '# HELP nginx_connections_active Active client connections',
    '# TYPE nginx_connections_active gauge',
    'nginx_connections_active 12',
    '',
  ].join('\n');
}
