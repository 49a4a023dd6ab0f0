import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Snapshot, type SnapshotBody, sealSnapshot } from '@catchment/core';
import type { DnsServerOptions } from '../src/index.ts';

export const run = promisify(execFile);

/** A port free for both UDP and TCP on 127.0.0.1 (and ::1). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const ok = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (ok) return port;
  }
}

export interface Running {
  port: number;
  httpPort: number;
  proc: ChildProcess;
  dir: string;
  /** Replaces the snapshot file and signals the server; resolves when it reports the load. */
  push(snapshot: Snapshot): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the real server in its own process. */
export async function startServer(
  body: SnapshotBody,
  opts: Partial<DnsServerOptions> = {},
  version = 1,
): Promise<Running> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'catchment-dns-'));
  const file = join(dir, 'snapshot.json');
  writeFileSync(file, JSON.stringify(sealSnapshot(version, body)));
  const options: Partial<DnsServerOptions> = {
    listen: [
      { address: '127.0.0.1', port },
      { address: '::1', port },
    ],
    workers: 1,
    http: { address: '127.0.0.1', port: 0 },
    ...opts,
  };
  const proc = spawn(process.execPath, [join(import.meta.dirname, 'serve.ts'), JSON.stringify(options), file], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CATCHMENT_LOG_LEVEL: 'warn' },
  });
  let out = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      const m = out.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        out = out.slice((m.index ?? 0) + m[0].length);
        w.resolve(m);
      }
    }
  });
  const wait = (re: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`server did not print ${re}`)), 30_000);
      waiters.push({
        re,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
      proc.stdout!.emit('data', Buffer.alloc(0));
    });
  const ready = await wait(/ready (\d+)\n/);
  return {
    port,
    httpPort: Number(ready[1]),
    proc,
    dir,
    async push(snapshot) {
      writeFileSync(file, JSON.stringify(snapshot));
      const loaded = wait(/(loaded|rejected) [^\n]*\n/);
      proc.kill('SIGHUP');
      const m = await loaded;
      if (m[1] !== 'loaded') throw new Error(m[0]);
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** dig with the usual options; returns stdout. */
export async function dig(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args]);
  return stdout;
}

export function status(out: string): string {
  return /status: ([A-Z]+)/.exec(out)?.[1] ?? 'none';
}

/** One raw UDP exchange; undefined when no reply within the timeout. */
export function udpQuery(port: number, packet: Buffer, timeoutMs = 1000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(packet, port, '127.0.0.1');
  });
}

/** A query packet built by hand (the tests must not trust the server's own codec). */
export function buildQuery(
  name: string,
  qtype: number,
  opts: { id?: number; flags?: number; opt?: Buffer | null; opcode?: number } = {},
): Buffer {
  const labels = name.split('.').filter(Boolean);
  const qname = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
  const h = Buffer.alloc(12);
  h.writeUInt16BE(opts.id ?? 0x1234, 0);
  h[2] = ((opts.opcode ?? 0) << 3) | (opts.flags ?? 0);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(opts.opt ? 1 : 0, 10);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(qtype, 0);
  q.writeUInt16BE(1, 2);
  return Buffer.concat([h, qname, q, opts.opt ?? Buffer.alloc(0)]);
}

/** OPT record with the given options (code, data). */
export function optRecord(options: [number, Buffer][], version = 0, udp = 1232): Buffer {
  const data = Buffer.concat(
    options.map(([code, d]) => {
      const h = Buffer.alloc(4);
      h.writeUInt16BE(code, 0);
      h.writeUInt16BE(d.length, 2);
      return Buffer.concat([h, d]);
    }),
  );
  const r = Buffer.alloc(11);
  r[0] = 0;
  r.writeUInt16BE(41, 1);
  r.writeUInt16BE(udp, 3);
  r[6] = version;
  r.writeUInt16BE(data.length, 9);
  return Buffer.concat([r, data]);
}

export function ecsOption(family: number, source: number, scope: number, addr: number[]): [number, Buffer] {
  return [8, Buffer.from([0, family, source, scope, ...addr])];
}

export function rcodeOf(reply: Buffer): number {
  return reply[3]! & 0x0f;
}
