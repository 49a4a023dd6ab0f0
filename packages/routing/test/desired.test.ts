import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sealSnapshot } from '@catchment/core';
import { desiredAnnouncements, formatCommunity, UnknownEdgeError } from '../src/index.ts';
import { setEdge, world } from './fixtures.ts';

const view = (set: ReturnType<typeof desiredAnnouncements>) =>
  set.map(
    (a) =>
      `${a.prefix.text} ${a.state}${a.communities.length ? ` ${a.communities.map(formatCommunity).join(',')}` : ''}`,
  );

test('a large edge announces its unicast prefixes and the supernets, IPv4 first', () => {
  assert.deepEqual(view(desiredAnnouncements(sealSnapshot(3, world()), 'fra')), [
    '198.18.0.0/20 announced',
    '198.18.1.0/24 announced',
    '2001:db8:100::/40 announced',
    '2001:db8:101::/48 announced',
  ]);
});

test('a small edge announces only its own prefixes, with the prefix communities', () => {
  assert.deepEqual(view(desiredAnnouncements(world(), 'lhr')), [
    '198.18.4.0/24 announced 64500:100',
    '2001:db8:104::/48 announced',
  ]);
});

test('snapshot announcements set state, add communities and carry the reason', () => {
  const body = world();
  body.announcements = [
    { edge: 'lhr', prefix: '198.18.4.0/24', state: 'withdrawn', communities: [], reason: 'run 7: withdraw-unicast' },
    {
      edge: 'fra',
      prefix: '198.18.0.0/20',
      state: 'announced',
      communities: ['64500:2002', '64500:70:150'],
      reason: 'run 8',
    },
  ];
  const lhr = desiredAnnouncements(body, 'lhr');
  assert.equal(lhr[0]?.state, 'withdrawn');
  assert.equal(lhr[0]?.reason, 'run 7: withdraw-unicast');
  assert.deepEqual(view(desiredAnnouncements(body, 'fra')).slice(0, 1), [
    '198.18.0.0/20 announced 64500:2002,64500:70:150',
  ]);
});

test('operator overrides and edge states: force-down and maintenance withdraw, drain tags GRACEFUL_SHUTDOWN', () => {
  const down = desiredAnnouncements(setEdge(world(), 'lhr', { override: 'force-down' }), 'lhr');
  assert.ok(down.every((a) => a.state === 'withdrawn' && a.reason === 'override:force-down'));
  const maint = desiredAnnouncements(setEdge(world(), 'lhr', { state: 'maintenance' }), 'lhr');
  assert.ok(maint.every((a) => a.state === 'withdrawn' && a.reason === 'edge-state:maintenance'));
  const forcedUp = desiredAnnouncements(setEdge(world(), 'lhr', { state: 'down', override: 'force-up' }), 'lhr');
  assert.ok(
    forcedUp.every((a) => a.state === 'announced'),
    'humans win over the configured state',
  );
  const drain = desiredAnnouncements(setEdge(world(), 'lhr', { override: 'drain' }), 'lhr');
  assert.deepEqual(view(drain), [
    '198.18.4.0/24 announced 64500:100,GRACEFUL_SHUTDOWN',
    '2001:db8:104::/48 announced GRACEFUL_SHUTDOWN',
  ]);
});

test('local withdrawals and graceful shutdown are options of the pure function', () => {
  const set = desiredAnnouncements(world(), 'fra', {
    localWithdrawals: new Map([['198.18.1.0/24', 'local-health:www.example.net']]),
    gracefulShutdown: true,
  });
  assert.deepEqual(view(set), [
    '198.18.0.0/20 announced GRACEFUL_SHUTDOWN',
    '198.18.1.0/24 withdrawn',
    '2001:db8:100::/40 announced GRACEFUL_SHUTDOWN',
    '2001:db8:101::/48 announced GRACEFUL_SHUTDOWN',
  ]);
  assert.equal(set[1]?.reason, 'local-health:www.example.net');
});

test('an edge the snapshot does not know is an error, never an empty set', () => {
  assert.throws(() => desiredAnnouncements(sealSnapshot(9, world()), 'nowhere'), UnknownEdgeError);
  assert.throws(() => desiredAnnouncements(world(), 'nowhere'), /"nowhere" is not in snapshot/);
});
