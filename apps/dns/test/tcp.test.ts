import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ASN_DB, CITY_DB, demoBody } from '../../../packages/geo/test/fixtures.ts';
import { buildQuery, type Running, startServer } from './helpers.ts';

function frame(q: Buffer): Buffer {
  const h = Buffer.alloc(2);
  h.writeUInt16BE(q.length);
  return Buffer.concat([h, q]);
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads n framed replies (or fewer if the server closes). */
function readReplies(sock: Socket, n: number, timeoutMs = 5000): Promise<Buffer[]> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const out: Buffer[] = [];
    const done = () => {
      clearTimeout(t);
      sock.removeAllListeners('data');
      resolve(out);
    };
    const t = setTimeout(done, timeoutMs);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length >= n) done();
    });
    sock.once('close', done);
  });
}

function closed(sock: Socket, timeoutMs = 10_000): Promise<boolean> {
  return new Promise((resolve) => {
    if (sock.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), timeoutMs);
    sock.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
    sock.on('data', () => {});
  });
}

describe('TCP (RFC 7766)', () => {
  let s: Running;
  before(async () => {
    const body = demoBody();
    for (let i = 0; i < 20; i++) {
      body.zones[0]!.records.push({
        name: 'big.example.net',
        type: 'TXT' as never,
        ttl: 300,
        value: `"record ${i} ${'y'.repeat(80)}"`,
      });
    }
    s = await startServer(body, {
      geo: { city: CITY_DB, asn: ASN_DB, watch: false },
      tcp: { idleMs: 500, messageMs: 500, maxPerClient: 3, maxConnections: 100 },
    });
  });
  after(async () => {
    await s?.stop();
  });

  it('answers pipelined queries in one segment, in order', async () => {
    const sock = await open(s.port);
    const ids = [11, 22, 33, 44];
    const names = ['example.net', 'www.example.net', 'nope.example.net', 'mail.example.net'];
    sock.write(Buffer.concat(ids.map((id, i) => frame(buildQuery(names[i]!, 1, { id })))));
    const replies = await readReplies(sock, 4);
    assert.deepEqual(
      replies.map((r) => r.readUInt16BE(0)),
      ids,
    );
    assert.equal(replies[2]![3]! & 0x0f, 3, 'NXDOMAIN for the third');
    sock.destroy();
  });

  it('answers a query split over several segments', async () => {
    const sock = await open(s.port);
    const f = frame(buildQuery('www.example.net', 1, { id: 7 }));
    sock.write(f.subarray(0, 1));
    await new Promise((r) => setTimeout(r, 50));
    sock.write(f.subarray(1, 9));
    await new Promise((r) => setTimeout(r, 50));
    sock.write(f.subarray(9));
    const [reply] = await readReplies(sock, 1);
    assert.equal(reply?.readUInt16BE(0), 7);
    sock.destroy();
  });

  it('answers, then closes, when the client half-closes after its query', async () => {
    const sock = await open(s.port);
    sock.end(frame(buildQuery('example.net', 6, { id: 9 })));
    const [reply] = await readReplies(sock, 1);
    assert.equal(reply?.readUInt16BE(0), 9);
    assert.ok(await closed(sock));
  });

  it('closes idle connections and connections stuck in the middle of a message', async () => {
    const idle = await open(s.port);
    assert.ok(await closed(idle), 'idle connection closed');
    const partial = await open(s.port);
    partial.write(Buffer.from([0, 40, 1, 2, 3]));
    assert.ok(await closed(partial), 'half-sent message closed');
  });

  it('applies write backpressure to a client that does not read, and loses nothing', async () => {
    const sock = await open(s.port);
    const n = 3000;
    sock.write(Buffer.concat(Array.from({ length: n }, (_, i) => frame(buildQuery('big.example.net', 16, { id: i })))));
    // The client reads nothing for a while (less than the idle timeout): ~6 MB of replies are due.
    sock.pause();
    await new Promise((r) => setTimeout(r, 150));
    sock.resume();
    const replies = await readReplies(sock, n, 20_000);
    assert.equal(replies.length, n);
    assert.deepEqual(
      replies.slice(0, 3).map((r) => r.readUInt16BE(0)),
      [0, 1, 2],
    );
    assert.equal(replies[n - 1]!.readUInt16BE(6), 20, 'every reply complete');
    sock.destroy();
  });

  it('closes the connection on a response packet and survives garbage', async () => {
    const sock = await open(s.port);
    sock.write(frame(buildQuery('example.net', 1, { flags: 0x80 })));
    assert.ok(await closed(sock));
    const junk = await open(s.port);
    junk.on('error', () => {});
    junk.write(Buffer.from([0, 3, 1, 2, 3]));
    assert.ok(await closed(junk));
    const ok = await open(s.port);
    ok.write(frame(buildQuery('example.net', 1, { id: 5 })));
    assert.equal((await readReplies(ok, 1))[0]?.readUInt16BE(0), 5);
    ok.destroy();
  });
  // Last: the server may still count these connections for a moment after the client closes them.
  it('caps connections per client, and still answers on the ones it keeps', async () => {
    const socks = await Promise.all([1, 2, 3, 4, 5].map(() => open(s.port)));
    const results = await Promise.all(
      socks.map(async (sock, i) => {
        sock.on('error', () => {});
        sock.write(frame(buildQuery('example.net', 1, { id: 100 + i })));
        return (await readReplies(sock, 1, 2000)).length;
      }),
    );
    assert.equal(results.filter((n) => n === 1).length, 3, `three connections answered, got ${results.join(',')}`);
    for (const sock of socks) sock.destroy();
  });
});

describe('TCP global connection cap', () => {
  let s: Running;
  before(async () => {
    s = await startServer(demoBody(), {
      geo: { city: CITY_DB, asn: ASN_DB, watch: false },
      tcp: { maxConnections: 2, maxPerClient: 10 },
    });
  });
  after(async () => {
    await s?.stop();
  });

  it('refuses connections beyond the global cap', async () => {
    const socks = await Promise.all([1, 2, 3].map(() => open(s.port)));
    const answered = await Promise.all(
      socks.map(async (sock, i) => {
        sock.on('error', () => {});
        sock.write(frame(buildQuery('example.net', 1, { id: i })));
        return (await readReplies(sock, 1, 2000)).length;
      }),
    );
    assert.equal(answered.filter((n) => n === 1).length, 2);
    for (const sock of socks) sock.destroy();
    const m = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
    assert.match(m, /catchment_dns_tcp_rejected_total 1/);
  });
});
