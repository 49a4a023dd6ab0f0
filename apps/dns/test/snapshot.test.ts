import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type Snapshot, type SnapshotBody, sealSnapshot } from '@catchment/core';
import { until } from '@catchment/testkit';
import { ASN_DB, CITY_DB, demoBody } from '@catchment/testkit/geo-fixtures';
import { buildQuery, dig, ecsOption, freePort, optRecord, startServer } from './helpers.ts';

function withLhr(address: string): SnapshotBody {
  const b = demoBody();
  b.services[0]!.addresses.find((a) => a.edge === 'lhr')!.v4 = [address];
  return b;
}

/**
 * A minimal server speaking the snapshot distribution protocol of conventions.md (long-poll by
 * version, ETag, reports), standing in for apps/api so this test needs no database.
 */
class SnapshotApi {
  server: Server;
  snapshot: Snapshot | undefined;
  reports: { consumer: string; details?: { blocks?: { block: string; edge: string | null; answers: number }[] } }[] =
    [];
  #waiting: { since: number; res: ServerResponse; timer: NodeJS.Timeout }[] = [];
  port = 0;

  constructor() {
    this.server = createServer((req, res) => this.#handle(req, res));
  }

  async listen(port: number): Promise<void> {
    this.port = port;
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
  }

  publish(s: Snapshot): void {
    this.snapshot = s;
    for (const w of this.#waiting.splice(0)) {
      clearTimeout(w.timer);
      this.#send(w.res);
    }
  }

  #send(res: ServerResponse): void {
    res.setHeader('etag', `"${this.snapshot!.version}"`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(this.snapshot));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/v1/reports') {
      let text = '';
      req.on('data', (d) => {
        text += d;
      });
      req.on('end', () => {
        this.reports.push(JSON.parse(text));
        res.statusCode = 202;
        res.end('{}');
      });
      return;
    }
    if (url.pathname !== '/v1/snapshot') {
      res.statusCode = 404;
      res.end();
      return;
    }
    const since = Number(url.searchParams.get('since') ?? 0);
    if (this.snapshot && this.snapshot.version > since) {
      this.#send(res);
      return;
    }
    const wait = Math.min(Number(url.searchParams.get('wait') ?? 0), 2) * 1000;
    const timer = setTimeout(() => {
      this.#waiting = this.#waiting.filter((w) => w.res !== res);
      res.statusCode = 304;
      res.end();
    }, wait);
    this.#waiting.push({ since, res, timer });
  }

  async close(): Promise<void> {
    for (const w of this.#waiting.splice(0)) {
      clearTimeout(w.timer);
      w.res.destroy();
    }
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe('snapshot intake', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('swaps snapshots under load without a single failed query', async () => {
    const s = await startServer(withLhr('198.18.4.10'), {
      geo: { city: CITY_DB, asn: ASN_DB, watch: false },
      workers: 2,
    });
    cleanups.push(() => s.stop());
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
    const pending = new Map<number, NodeJS.Timeout>();
    let sent = 0;
    let ok = 0;
    let failed = 0;
    const seen = new Set<string>();
    sock.on('message', (m) => {
      const id = m.readUInt16BE(0);
      const t = pending.get(id);
      if (!t) return;
      clearTimeout(t);
      pending.delete(id);
      const ancount = m.readUInt16BE(6);
      if ((m[3]! & 0x0f) === 0 && ancount === 1) {
        ok++;
        // The A record's address: the 4 bytes before the OPT record (11 bytes + ECS option of 12).
        const end = m.length - (11 + 4 + 4 + 4);
        seen.add(Array.from(m.subarray(end - 4, end)).join('.'));
      } else failed++;
    });
    const query = optRecord([ecsOption(1, 32, 0, [81, 2, 69, 142])]);
    // The load runs until the last version has answered (bounded: 40 s or 1 M queries), so a slow
    // swap on a loaded machine is still seen under load rather than after the load has ended.
    let stop = false;
    const maxQueries = 1_000_000;
    const load = (async () => {
      const deadline = Date.now() + 40_000;
      while (!stop && Date.now() < deadline && sent < maxQueries) {
        while (pending.size < 32 && sent < maxQueries) {
          const id = (sent++ % 65000) + 1;
          const packet = buildQuery('www.example.net', 1, { id, opt: query });
          pending.set(
            id,
            setTimeout(() => {
              pending.delete(id);
              failed++;
            }, 3000),
          );
          sock.send(packet, s.port, '127.0.0.1');
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let v = 2; v <= 6; v++) {
      await new Promise((r) => setTimeout(r, 300));
      await s.push(sealSnapshot(v, withLhr(`198.18.4.${10 + v}`)));
    }
    await until('the last snapshot to answer', async () => (seen.has('198.18.4.16') ? true : undefined), 30_000).catch(
      () => undefined,
    );
    stop = true;
    await load;
    await until('in-flight queries', async () => (pending.size === 0 ? true : undefined), 5000);
    assert.equal(failed, 0, `${failed} of ${sent} queries failed`);
    assert.ok(ok > 100, `only ${ok} answers`);
    assert.ok(seen.has('198.18.4.10') && seen.has('198.18.4.16'), `answers seen: ${[...seen].join(' ')}`);
    // A snapshot that fails verification is refused; the server keeps answering the last one.
    const bad = sealSnapshot(7, withLhr('198.18.4.99'));
    bad.checksum = `sha256:${'0'.repeat(64)}`;
    await assert.rejects(s.push(bad));
    assert.match(await dig(s.port, '+short', 'www.example.net', '+subnet=81.2.69.142/32'), /198\.18\.4\.16/);
  });

  it('follows the API, reports answers per block, and starts from the last-known-good file with the API down', async () => {
    const api = new SnapshotApi();
    const apiPort = await freePort();
    await api.listen(apiPort);
    cleanups.push(() => api.close());
    api.publish(sealSnapshot(1, withLhr('198.18.4.10')));
    const dnsPort = await freePort();
    const httpPort = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'catchment-dns-lkg-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = {
      ...process.env,
      CATCHMENT_API_URL: `http://127.0.0.1:${apiPort}`,
      CATCHMENT_DATA_DIR: dataDir,
      CATCHMENT_DNS_PORT: String(dnsPort),
      CATCHMENT_DNS_ADDRESSES: '127.0.0.1',
      CATCHMENT_DNS_HTTP_PORT: String(httpPort),
      CATCHMENT_DNS_WORKERS: '1',
      CATCHMENT_DNS_REPORT_SECONDS: '1',
      CATCHMENT_DNS_FIRST_SNAPSHOT_MS: '2000',
      CATCHMENT_GEOIP_CITY: CITY_DB,
      CATCHMENT_LOG_LEVEL: 'warn',
    };
    const main = join(import.meta.dirname, '../src/main.ts');
    const startMain = () => {
      const p = spawn(process.execPath, [main], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      const stopped = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
      cleanups.push(async () => {
        if (p.exitCode === null) p.kill('SIGKILL');
        await stopped;
      });
      return { p, stopped };
    };
    const a = startMain();
    const lhr = (addr: string) => async () =>
      (await dig(dnsPort, '+short', 'www.example.net', '+subnet=81.2.69.142/32')).includes(addr) ? true : undefined;
    await until('v1 answers', lhr('198.18.4.10'));
    api.publish(sealSnapshot(2, withLhr('198.18.4.42')));
    await until('v2 answers', lhr('198.18.4.42'));
    const report = await until('a report with blocks', async () =>
      api.reports.find((r) => r.details?.blocks?.some((b) => b.edge === 'lhr' && b.block === '81.2.69.142/31')),
    );
    assert.equal(report.consumer.startsWith('dns-'), true);
    a.p.kill('SIGTERM');
    assert.equal(await a.stopped, 0, 'graceful shutdown exits 0');

    await api.close();
    cleanups.pop();
    const b = startMain();
    await until('answers from the last-known-good file while the API is down', lhr('198.18.4.42'));
    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    assert.equal(ready.status, 200);
    b.p.kill('SIGTERM');
    assert.equal(await b.stopped, 0);
  });
});
