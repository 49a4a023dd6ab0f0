import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PEER_IDLE_SLACK_SECONDS, planPeers } from '../../src/xdp/peers.ts';

const IDLE = 10;

test('listed peers are added once and never rewritten (the program owns their last-seen value)', () => {
  const since = new Map<string, number>();
  assert.deepEqual(planPeers(new Map(), new Set(['a']), 100, IDLE, since), { add: ['a'], draining: [], remove: [] });
  assert.deepEqual(planPeers(new Map([['a', 100]]), new Set(['a']), 200, IDLE, since), {
    add: [],
    draining: [],
    remove: [],
  });
});

test('an unlisted peer drains while packets keep coming, and goes after the idle time', () => {
  const since = new Map<string, number>();
  const limit = IDLE + PEER_IDLE_SLACK_SECONDS;
  assert.deepEqual(planPeers(new Map([['a', 100]]), new Set(), 100, IDLE, since).draining, ['a']);
  // A long download still arriving 1000 s later: still draining.
  assert.deepEqual(planPeers(new Map([['a', 1000]]), new Set(), 1000 + limit, IDLE, since).draining, ['a']);
  assert.deepEqual(planPeers(new Map([['a', 1000]]), new Set(), 1001 + limit, IDLE, since), {
    add: [],
    draining: [],
    remove: ['a'],
  });
  assert.equal(since.size, 0);
});

test('a peer silent long before it was unlisted still gets a full idle period from the undo', () => {
  const since = new Map<string, number>();
  // Last packet at 5 (or an entry written by an older agent with value 1); unlisted at 500.
  assert.deepEqual(planPeers(new Map([['a', 5]]), new Set(), 500, IDLE, since).draining, ['a']);
  assert.deepEqual(planPeers(new Map([['a', 5]]), new Set(), 505, IDLE, since).draining, ['a']);
  assert.deepEqual(
    planPeers(new Map([['a', 5]]), new Set(), 500 + IDLE + PEER_IDLE_SLACK_SECONDS + 1, IDLE, since).remove,
    ['a'],
  );
});

test('a draining peer listed again is simply kept, and its retirement forgotten', () => {
  const since = new Map<string, number>();
  planPeers(new Map([['a', 5]]), new Set(), 500, IDLE, since);
  assert.deepEqual(planPeers(new Map([['a', 5]]), new Set(['a']), 501, IDLE, since), {
    add: [],
    draining: [],
    remove: [],
  });
  assert.equal(since.size, 0);
  // Unlisted again much later: a new idle period starts then.
  assert.deepEqual(planPeers(new Map([['a', 5]]), new Set(), 9000, IDLE, since).draining, ['a']);
});
