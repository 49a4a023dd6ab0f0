import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TcpCaps } from '../src/tcp-caps.ts';

describe('process-wide TCP caps (shared counters)', () => {
  const client = new Uint8Array([192, 0, 2, 1]);
  const other = new Uint8Array([198, 51, 100, 7]);

  it('hold across threads, and a dead thread gives its places back', () => {
    const buffer = TcpCaps.buffer(2);
    const t0 = new TcpCaps({ buffer, thread: 0 }, 5, 3);
    const t1 = new TcpCaps({ buffer, thread: 1 }, 5, 3);
    const a = t0.acquire(client);
    assert.ok(a > 0);
    assert.ok(t0.acquire(client) > 0);
    assert.ok(t1.acquire(client) > 0);
    assert.equal(t1.acquire(client), -1, 'per-client cap over both threads');
    assert.equal(t0.acquire(client), -1);
    assert.ok(t1.acquire(other) > 0);
    assert.ok(t1.acquire(other) > 0);
    assert.equal(t0.total, 5);
    assert.equal(t0.acquire(new Uint8Array([203, 0, 113, 9])), -1, 'global cap over both threads');
    t0.release(a);
    assert.equal(t1.total, 4);
    // Thread 0 dies with one connection of `client` open: its share comes back.
    TcpCaps.reclaim(buffer, 0);
    assert.equal(t1.total, 3);
    assert.ok(t1.acquire(client) > 0);
    assert.ok(t1.acquire(client) > 0);
    assert.equal(t1.acquire(client), -1, 'thread 1 still holds one of its own');
  });
});
