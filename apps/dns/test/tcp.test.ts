import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ASN_DB, CITY_DB, demoBody } from '@catchment/testkit/geo-fixtures';
import { buildQuery, type Running, startServer } from './helpers.ts';

function frame(q: Buffer): Buffer {
  const h = Buffer.alloc(2);
  h.writeUInt16BE(q.length);
  return Buffer.concat([h, q]);
}

function open(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) }, () => resolve(s));
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

describe('TCP whole-message deadline (slowloris)', () => {
  let s: Running;
  before(async () => {
    s = await startServer(demoBody(), {
      geo: { city: CITY_DB, asn: ASN_DB, watch: false },
      tcp: { idleMs: 5000, messageMs: 400, maxConnections: 10, maxPerClient: 10 },
    });
  });
  after(async () => {
    await s?.stop();
  });

  it('closes messages that trickle in, so slow connections cannot lock out a fresh client', async () => {
    const message = frame(buildQuery('www.example.net', 1, { id: 1 }));
    // As many slow clients as the caps allow, from another address: each sends one byte of its
    // message every 100 ms (so the idle timeout never fires), for at most the whole message.
    const slow = await Promise.all(Array.from({ length: 10 }, () => open(s.port, '127.0.0.2')));
    const timers: NodeJS.Timeout[] = [];
    const closedEarly = slow.map(
      (sock) =>
        new Promise<boolean>((resolve) => {
          let sent = 0;
          sock.on('error', () => {});
          const t = setInterval(() => {
            if (sock.destroyed || sent >= message.length - 1) {
              clearInterval(t);
              resolve(sock.destroyed);
              return;
            }
            sock.write(message.subarray(sent, sent + 1));
            sent++;
          }, 100);
          timers.push(t);
          sock.once('close', () => {
            clearInterval(t);
            resolve(sent < message.length - 1);
          });
        }),
    );
    const early = await Promise.all(closedEarly);
    for (const t of timers) clearInterval(t);
    assert.deepEqual(
      early.filter((e) => e).length,
      10,
      'every slow connection was closed before its message was complete',
    );
    const fresh = await open(s.port);
    fresh.on('error', () => {});
    fresh.write(frame(buildQuery('example.net', 1, { id: 77 })));
    const [reply] = await readReplies(fresh, 1, 2000);
    assert.equal(reply?.readUInt16BE(0), 77, 'a fresh client is answered');
    fresh.destroy();
    for (const sock of slow) sock.destroy();
  });
});

describe('TCP caps hold for the process, not per worker thread', () => {
  let s: Running;
  before(async () => {
    s = await startServer(demoBody(), {
      geo: { city: CITY_DB, asn: ASN_DB, watch: false },
      workers: 2,
      tcp: { maxConnections: 4, maxPerClient: 3 },
    });
  });
  after(async () => {
    await s?.stop();
  });

  /** Opens connections (from the given addresses), asks one query on each: how many were answered. */
  async function answered(from: string[]): Promise<number> {
    const socks = await Promise.all(from.map((a) => open(s.port, a)));
    const got = await Promise.all(
      socks.map(async (sock, i) => {
        sock.on('error', () => {});
        sock.write(frame(buildQuery('example.net', 1, { id: 200 + i })));
        return (await readReplies(sock, 1, 2000)).length;
      }),
    );
    for (const sock of socks) sock.destroy();
    // Bounded wait until the server has seen the closes (its gauge is back to 0).
    for (let i = 0; i < 50; i++) {
      const m = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
      if (/catchment_dns_tcp_connections 0\b/.test(m)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return got.filter((n) => n === 1).length;
  }

  it('caps connections per client across both workers', async () => {
    // SO_REUSEPORT spreads 10 connections over both workers (all on one: 2 in 1024).
    assert.equal(await answered(Array.from({ length: 10 }, () => '127.0.0.1')), 3);
  });

  it('caps connections in all across both workers', async () => {
    const addresses = Array.from({ length: 10 }, (_, i) => `127.0.0.${10 + i}`);
    assert.equal(await answered(addresses), 4);
  });
});
