import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { BatchUdpSocket, type Datagrams, loadError } from '../src/index.ts';

/** An echo server: each reply is the datagram with its first byte inverted, plus the source port. */
function echo(family: 4 | 6, onBatch?: (count: number) => void): BatchUdpSocket {
  return new BatchUdpSocket(
    { family, address: family === 4 ? '127.0.0.1' : '::1', port: 0, reusePort: false, bufferBytes: 1 << 20 },
    (count: number, b: Datagrams) => {
      onBatch?.(count);
      for (let i = 0; i < count; i++) {
        const len = b.length(i);
        if (len < 0) continue;
        const reply = b.replies[i]!;
        b.slots[i]!.copy(reply, 0, 0, len);
        reply[0] = reply[0]! ^ 0xff;
        reply.writeUInt16BE(b.sourcePort(i), len);
        b.reply(i, len + 2);
      }
    },
  );
}

async function client(type: 'udp4' | 'udp6'): Promise<Socket> {
  const c = createSocket(type);
  await new Promise<void>((r) => c.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => r()));
  c.setRecvBufferSize(4 << 20);
  return c;
}

/** Sends `n` datagrams at once and collects the replies (or what came within `ms`). */
async function exchange(c: Socket, port: number, host: string, packets: Buffer[], ms = 3000): Promise<Buffer[]> {
  const replies: Buffer[] = [];
  const done = new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    c.on('message', (m) => {
      replies.push(m);
      if (replies.length === packets.length) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  for (const p of packets) c.send(p, port, host);
  await done;
  c.removeAllListeners('message');
  return replies;
}

describe('batched UDP sockets (recvmmsg/sendmmsg addon)', () => {
  const open: { close(): void }[] = [];
  after(() => {
    for (const s of open) s.close();
  });

  it('loads on this machine (the setup builds it)', () => {
    assert.equal(loadError(), undefined);
  });

  for (const family of [4, 6] as const) {
    it(`answers IPv${family} datagrams in batches, each to its own source`, async () => {
      const batches: number[] = [];
      const s = echo(family, (n) => batches.push(n));
      open.push(s);
      const c = await client(family === 4 ? 'udp4' : 'udp6');
      open.push(c);
      const myPort = c.address().port;
      const packets = Array.from({ length: 300 }, (_, i) => Buffer.from([1, i >> 8, i & 0xff, 7]));
      const replies = await exchange(c, s.localPort, family === 4 ? '127.0.0.1' : '::1', packets);
      assert.equal(replies.length, 300);
      const seen = new Set(replies.map((r) => r.readUInt16BE(1)));
      assert.equal(seen.size, 300, 'every datagram answered once');
      for (const r of replies) {
        assert.equal(r[0], 0xfe);
        assert.equal(r[3], 7);
        assert.equal(r.readUInt16BE(4), myPort, 'the source port is reported');
      }
      assert.ok(
        batches.some((n) => n > 1),
        `datagrams arrived in batches: ${batches.slice(0, 10).join(',')}`,
      );
      const st = s.stats();
      assert.equal(st.received, 300);
      assert.equal(st.sent, 300);
      assert.equal(st.errors, 0);
    });
  }

  it('reports the source address bytes', async () => {
    let source = '';
    const s = new BatchUdpSocket(
      { family: 6, address: '::1', port: 0, reusePort: false, bufferBytes: 0 },
      (count, b) => {
        for (let i = 0; i < count; i++) source = Buffer.from(b.addresses[i]!).toString('hex');
      },
    );
    open.push(s);
    const c = await client('udp6');
    open.push(c);
    await exchange(c, s.localPort, '::1', [Buffer.from('x')], 500);
    assert.equal(source, `${'00'.repeat(15)}01`);
  });

  it('drops and counts a datagram longer than a slot; the next one is answered', async () => {
    const s = echo(4);
    open.push(s);
    const c = await client('udp4');
    open.push(c);
    const replies = await exchange(c, s.localPort, '127.0.0.1', [Buffer.alloc(5000, 1), Buffer.from([9, 9])], 1000);
    assert.deepEqual(
      replies.map((r) => r.length),
      [4],
    );
    assert.equal(s.stats().oversize, 1);
  });

  it('a callback that throws loses its batch, not the socket', async () => {
    let calls = 0;
    const s = new BatchUdpSocket(
      { family: 4, address: '127.0.0.1', port: 0, reusePort: false, bufferBytes: 0 },
      (count, b) => {
        if (calls++ === 0) throw new Error('bug in the owner');
        for (let i = 0; i < count; i++) {
          b.slots[i]!.copy(b.replies[i]!);
          b.reply(i, b.length(i));
        }
      },
    );
    open.push(s);
    const c = await client('udp4');
    open.push(c);
    assert.equal((await exchange(c, s.localPort, '127.0.0.1', [Buffer.from('a')], 500)).length, 0);
    assert.equal((await exchange(c, s.localPort, '127.0.0.1', [Buffer.from('b')], 2000)).length, 1);
    assert.equal(s.stats().errors, 1);
  });

  it('binds a shared port only with reusePort, and says why when it cannot', () => {
    const opts = { family: 4 as const, address: '127.0.0.1', port: 0, reusePort: true, bufferBytes: 0 };
    const a = new BatchUdpSocket(opts, () => {});
    open.push(a);
    const b = new BatchUdpSocket({ ...opts, port: a.localPort }, () => {});
    open.push(b);
    assert.equal(b.localPort, a.localPort);
    assert.throws(
      () => new BatchUdpSocket({ ...opts, port: a.localPort, reusePort: false }, () => {}),
      (err: Error & { code?: string }) => err.code === 'EADDRINUSE' && /bind/.test(err.message),
    );
    assert.throws(
      () => new BatchUdpSocket({ ...opts, address: '300.1.1.1' }, () => {}),
      (err: Error & { code?: string }) => err.code === 'EINVAL',
    );
  });

  it('close() stops answering and frees the port; closing twice is harmless', async () => {
    const s = echo(4);
    const port = s.localPort;
    s.close();
    s.close();
    const c = await client('udp4');
    open.push(c);
    assert.equal((await exchange(c, port, '127.0.0.1', [Buffer.from('a')], 300)).length, 0);
    const again = new BatchUdpSocket(
      { family: 4, address: '127.0.0.1', port, reusePort: false, bufferBytes: 0 },
      () => {},
    );
    again.close();
  });

  it('a worker thread that ends without close() releases its socket', async () => {
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)}).then(({ BatchUdpSocket }) => {
        const s = new BatchUdpSocket({ family: 4, address: '127.0.0.1', port: 0, reusePort: false, bufferBytes: 0 },
          (n, b) => { for (let i = 0; i < n; i++) { b.slots[i].copy(b.replies[i]); b.reply(i, b.length(i)); } });
        parentPort.postMessage(s.localPort);
      });`;
    const w = new Worker(code, { eval: true });
    const port = await new Promise<number>((r) => w.once('message', r));
    const c = await client('udp4');
    open.push(c);
    assert.equal((await exchange(c, port, '127.0.0.1', [Buffer.from('hi')])).length, 1, 'the worker answers');
    assert.equal(await w.terminate(), 1);
    // The port is free again: the socket was closed when the worker's environment went away.
    const s = new BatchUdpSocket({ family: 4, address: '127.0.0.1', port, reusePort: false, bufferBytes: 0 }, () => {});
    s.close();
  });
});
