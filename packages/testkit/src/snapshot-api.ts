import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Snapshot, type SnapshotBody, sealSnapshot } from '@catchment/core';

/**
 * A tiny stand-in for the API's snapshot distribution (conventions: GET /v1/snapshot
 * with since/wait long-poll, ETag, 304; POST /v1/reports), on 127.0.0.1, for tests
 * and the routing benchmark. Publishing wakes every waiting long-poll at once.
 */
export class SnapshotApi {
  readonly snapshots: Snapshot[] = [];
  readonly reports: Record<string, unknown>[] = [];
  readonly publishedAt = new Map<number, number>();
  readonly #server: Server;
  readonly #token: string;
  #waiters = new Set<() => void>();
  url = '';

  private constructor(token: string) {
    this.#token = token;
    this.#server = createServer((req, res) => {
      if (req.headers.authorization !== `Bearer ${this.#token}`) {
        res.writeHead(401).end();
        return;
      }
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST' && url.pathname === '/v1/reports') {
        let text = '';
        req.on('data', (c) => {
          text += c;
        });
        req.on('end', () => {
          try {
            this.reports.push(JSON.parse(text));
            res.writeHead(202).end();
          } catch {
            res.writeHead(400).end();
          }
        });
        return;
      }
      if (req.method === 'GET' && url.pathname === '/v1/snapshot') {
        const since = Number(url.searchParams.get('since') ?? 0);
        const wait = Math.min(Number(url.searchParams.get('wait') ?? 0), 60);
        const answer = () => {
          const latest = this.latest();
          if (latest && latest.version > since) {
            res.writeHead(200, { 'content-type': 'application/json', etag: `"${latest.version}"` });
            res.end(JSON.stringify(latest));
            return true;
          }
          return false;
        };
        if (answer()) return;
        const timer = setTimeout(() => {
          this.#waiters.delete(wake);
          res.writeHead(304).end();
        }, wait * 1000);
        const wake = () => {
          if (answer()) {
            clearTimeout(timer);
            this.#waiters.delete(wake);
          }
        };
        this.#waiters.add(wake);
        req.on('close', () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
        });
        return;
      }
      res.writeHead(404).end();
    });
  }

  static async start(token = 'test-token', port = 0): Promise<SnapshotApi> {
    const api = new SnapshotApi(token);
    await new Promise<void>((resolve) => api.#server.listen(port, '127.0.0.1', resolve));
    api.url = `http://127.0.0.1:${(api.#server.address() as AddressInfo).port}`;
    return api;
  }

  get token(): string {
    return this.#token;
  }

  latest(): Snapshot | undefined {
    return this.snapshots[this.snapshots.length - 1];
  }

  publish(body: SnapshotBody): Snapshot {
    const snap = sealSnapshot((this.latest()?.version ?? 0) + 1, structuredClone(body));
    this.snapshots.push(snap);
    this.publishedAt.set(snap.version, performance.now());
    for (const w of [...this.#waiters]) w();
    return snap;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
