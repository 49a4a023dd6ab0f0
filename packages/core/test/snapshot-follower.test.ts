import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SETTINGS, type Snapshot, type SnapshotBody, SnapshotFollower, sealSnapshot } from '@catchment/core';
import { tempDir } from '@catchment/testkit';

const body = (serial: number): SnapshotBody => ({
  zones: [
    {
      name: 'example.net',
      ttl: 60,
      soa: { mname: 'ns1.example.net.', rname: 'h.example.net.', serial, refresh: 1, retry: 1, expire: 1, minimum: 1 },
      ns: ['ns1.example.net'],
      records: [],
    },
  ],
  edges: [],
  services: [],
  policies: [],
  prefixes: [],
  announcements: [],
  transits: [],
  dsr: [],
  automation: { frozen: false, frozenEdges: [] },
  settings: DEFAULT_SETTINGS,
});

/** A minimal API side of the snapshot protocol, with a switch to make it fail. */
class FakeApi {
  snapshots: Snapshot[] = [];
  down = false;
  requests: string[] = [];
  server: Server;
  waiters: (() => void)[] = [];
  constructor() {
    this.server = createServer(async (req, res) => {
      this.requests.push(`${req.url} ${req.headers.authorization ?? ''}`);
      if (this.down) {
        res.writeHead(503).end('down');
        return;
      }
      const url = new URL(req.url ?? '/', 'http://x');
      const since = Number(url.searchParams.get('since') ?? 0);
      const wait = Number(url.searchParams.get('wait') ?? 0);
      const deadline = Date.now() + wait * 1000;
      while ((this.snapshots.at(-1)?.version ?? 0) <= since && Date.now() < deadline && !this.down) {
        await new Promise<void>((r) => {
          this.waiters.push(r);
          setTimeout(r, 50);
        });
      }
      const latest = this.snapshots.at(-1);
      if (!latest || latest.version <= since) {
        res.writeHead(304).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json', etag: `"${latest.version}"` })
        .end(JSON.stringify(latest));
    });
  }
  publish(s: Snapshot) {
    this.snapshots.push(s);
    for (const w of this.waiters.splice(0)) w();
  }
  get url() {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

describe('SnapshotFollower', () => {
  const api = new FakeApi();
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir();
    api.server.listen(0, '127.0.0.1');
    await once(api.server, 'listening');
  });
  after(async () => {
    api.server.closeAllConnections();
    api.server.close();
    await dir.remove();
  });

  it('follows new versions by long-poll, verifies them, and keeps the last good one on disk', async () => {
    const cacheFile = join(dir.path, 'a', 'snapshot.json');
    const f = new SnapshotFollower({ apiUrl: api.url, token: 'tkn', cacheFile, waitSeconds: 2, retryMs: 20 });
    await f.start();
    assert.equal(f.current(), undefined);
    api.publish(sealSnapshot(1, body(1)));
    const first = await f.ready(5000);
    assert.equal(first?.version, 1);
    const next = once(f, 'snapshot');
    api.publish(sealSnapshot(2, body(2)));
    assert.equal(((await next)[0] as Snapshot).version, 2);
    assert.ok(api.requests.some((r) => r.includes('since=1') && r.endsWith('Bearer tkn')));
    // A snapshot whose body was altered after sealing is refused; the current one stays.
    const forged = sealSnapshot(3, body(3));
    forged.body.zones[0]!.soa.serial = 999;
    api.publish(forged);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(f.current()?.version, 2);
    assert.match(f.status().lastError ?? '', /checksum/);
    await f.stop();
    const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as Snapshot;
    assert.equal(cached.version, 2);
    api.snapshots.pop();
  });

  it('starts from the last-known-good file while the API is down, and keeps it', async () => {
    const cacheFile = join(dir.path, 'b.json');
    await writeFile(cacheFile, JSON.stringify(sealSnapshot(7, body(7))));
    api.down = true;
    const f = new SnapshotFollower({ apiUrl: api.url, cacheFile, waitSeconds: 1, retryMs: 10 });
    await f.start();
    assert.equal(f.current()?.version, 7);
    assert.equal(f.status().source, 'cache');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(f.status().consecutiveFailures >= 1);
    assert.equal(f.current()?.version, 7);
    // Back up, but with an older version than the cache: never go backwards.
    api.down = false;
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(f.current()?.version, 7);
    await f.stop();
  });

  it('ignores a corrupt cache file', async () => {
    const cacheFile = join(dir.path, 'c.json');
    await writeFile(cacheFile, '{"schema":1,"version":');
    api.down = true;
    const f = new SnapshotFollower({ apiUrl: api.url, cacheFile, waitSeconds: 1, retryMs: 10 });
    await f.start();
    assert.equal(f.current(), undefined);
    await f.stop();
    api.down = false;
  });
});
