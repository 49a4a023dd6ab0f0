import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sealSnapshot } from '@catchment/core';
import { GeoDb } from '@catchment/geo';
import { seededRandom } from '@catchment/testkit';
import { ASN_DB, CITY_DB, demoBody } from '@catchment/testkit/geo-fixtures';
import { compileSnapshot, Responder } from '../src/index.ts';
import { buildQuery, dig, ecsOption, optRecord, type Running, startServer } from './helpers.ts';

const seeds = [
  buildQuery('www.example.net', 1, { opt: optRecord([[10, Buffer.alloc(8, 1)], ecsOption(1, 24, 0, [81, 2, 69])]) }),
  buildQuery('www.example.net', 28, { opt: optRecord([ecsOption(2, 56, 0, [0x20, 1, 4, 0x80, 0, 0, 0])]) }),
  buildQuery('example.net', 15),
  buildQuery('nope.example.net', 255, { opt: optRecord([]) }),
];

/** One hostile packet: random, truncated, bit-flipped, a compression loop or huge counts. */
function hostile(r: () => number): Buffer {
  const kind = Math.floor(r() * 6);
  const base = seeds[Math.floor(r() * seeds.length)]!;
  if (kind === 0) return Buffer.from(Array.from({ length: Math.floor(r() * 600) }, () => Math.floor(r() * 256)));
  if (kind === 1) return base.subarray(0, Math.floor(r() * base.length));
  if (kind === 2) {
    const b = Buffer.from(base);
    const flips = 1 + Math.floor(r() * 8);
    for (let i = 0; i < flips; i++) {
      const pos = Math.floor(r() * b.length);
      b[pos] = b[pos]! ^ (1 << Math.floor(r() * 8));
    }
    b[2] = b[2]! & 0x7f;
    return b;
  }
  if (kind === 3) {
    // Additional record whose owner is a pointer to itself, and one pointing forward.
    const b = Buffer.from(base.subarray(0, base.length));
    b.writeUInt16BE(1, 10);
    const at = b.length;
    return Buffer.concat([b, Buffer.from([0xc0 | (at >> 8), at & 0xff, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0])]);
  }
  if (kind === 4) {
    const b = Buffer.alloc(12 + Math.floor(r() * 4));
    b.writeUInt16BE(Math.floor(r() * 65536), 0);
    for (let i = 4; i < 12; i += 2) b.writeUInt16BE(0xffff, i);
    return b;
  }
  const b = Buffer.from(base);
  const opt = b.length - 11;
  if (opt > 12) b.writeUInt16BE(0xffff, opt + 9);
  return b;
}

describe('fuzz (bounded)', () => {
  it('the responder never throws and every reply is a well-formed header for the right id', () => {
    const geo = new GeoDb({ city: CITY_DB, asn: ASN_DB, watch: false });
    const responder = new Responder(compileSnapshot(sealSnapshot(1, demoBody()), geo));
    const r = seededRandom(7);
    const client = { family: 4 as const, bytes: new Uint8Array([192, 0, 2, 1]) };
    for (let i = 0; i < 100_000; i++) {
      const p = hostile(r);
      const n = responder.respond(p, p.length, client, i % 2 === 0);
      if (n === 0) continue;
      assert.ok(n >= 12, `reply of ${n} bytes`);
      assert.equal(responder.out.readUInt16BE(0), p.readUInt16BE(0));
      assert.equal(responder.out[2]! & 0x80, 0x80, 'QR set');
      if (i % 2 === 1) assert.ok(n <= 1232, 'UDP replies fit the advertised buffer');
    }
    geo.close();
  });

  describe('against the server process', () => {
    let s: Running;
    before(async () => {
      s = await startServer(demoBody(), { geo: { city: CITY_DB, asn: ASN_DB, watch: false } });
    });
    after(async () => {
      await s?.stop();
    });

    it('keeps answering correctly after 20 000 hostile UDP packets and TCP garbage', async () => {
      const sock = createSocket('udp4');
      sock.on('message', () => {});
      await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
      const r = seededRandom(42);
      for (let batch = 0; batch < 200; batch++) {
        for (let i = 0; i < 100; i++) sock.send(hostile(r), s.port, '127.0.0.1');
        await new Promise((res) => setTimeout(res, 2));
      }
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((res) => {
          const c = connect({ host: '127.0.0.1', port: s.port }, () => {
            c.end(hostile(r));
          });
          c.on('error', () => {});
          c.on('data', () => {});
          c.on('close', () => res());
          setTimeout(() => c.destroy(), 2000);
        });
      }
      await new Promise<void>((res) => sock.close(() => res()));
      assert.equal(s.proc.exitCode, null, 'server still running');
      assert.match(await dig(s.port, '+short', 'www.example.net', '+subnet=175.16.199.0/24'), /198\.18\.3\.10/);
      assert.match(await dig(s.port, '+short', '+tcp', 'example.net', 'MX'), /10 mail\.example\.net\./);
    });
  });

  it('batched (recvmmsg/sendmmsg) and dgram UDP I/O give the same replies to the same packets', async () => {
    const geo = { city: CITY_DB, asn: ASN_DB, watch: false };
    // Cookies off: a server cookie carries the second it was issued, which differs between runs.
    const servers = [await startServer(demoBody(), { geo, udpIo: 'batch', cookies: false })];
    try {
      servers.push(await startServer(demoBody(), { geo, udpIo: 'dgram', cookies: false }));
      const r = seededRandom(11);
      const packets = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? seeds[i % seeds.length]! : hostile(r)));
      const replies: string[][] = [];
      for (const server of servers) {
        const got: string[] = [];
        const sock = createSocket('udp4');
        sock.on('message', (m) => got.push(m.toString('hex')));
        await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
        sock.setRecvBufferSize(8 << 20);
        for (let i = 0; i < packets.length; i += 100) {
          for (const p of packets.slice(i, i + 100)) sock.send(p, server.port, '127.0.0.1');
          await new Promise((res) => setTimeout(res, 5));
        }
        // Settled when nothing more arrives for 500 ms.
        for (let n = -1; n !== got.length; ) {
          n = got.length;
          await new Promise((res) => setTimeout(res, 500));
        }
        await new Promise<void>((res) => sock.close(() => res()));
        replies.push(got.sort());
      }
      assert.ok(replies[0]!.length >= 1000, `${replies[0]!.length} replies`);
      assert.deepEqual(replies[0], replies[1]);
    } finally {
      for (const server of servers) await server.stop();
    }
  });
});
