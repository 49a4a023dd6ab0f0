import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sealSnapshot } from '@catchment/core';
import { RouteChangeLog } from '@catchment/routing';
import { labWorld } from '@catchment/testkit/lab-world';
import { decideLocalWithdrawals } from '../src/index.ts';

const WWW = new Set(['www.example.net']);

test('a small edge whose service fails withdraws its unicast prefixes (the supernet covers them)', () => {
  const snap = sealSnapshot(1, labWorld());
  const d = decideLocalWithdrawals(snap, 'lhr', WWW, new Map(), new RouteChangeLog());
  assert.deepEqual([...d.withdrawals.keys()].sort(), ['198.18.3.0/24', '2001:db8:103::/48']);
  assert.match(d.withdrawals.get('198.18.3.0/24') ?? '', /local-health: www\.example\.net failing/);
  assert.deepEqual(d.refused, []);
  assert.deepEqual(d.changed.sort(), ['198.18.3.0/24', '2001:db8:103::/48']);
});

test("observations in the snapshot (as old as its publication) do not hold the agent's local withdrawals", () => {
  const body = labWorld();
  // Published before any agent reported: every edge unknown.
  for (const e of body.edges) e.observed = { reportedAt: null, healthy: false, problems: [], exported: null };
  const d = decideLocalWithdrawals(sealSnapshot(1, body), 'lhr', WWW, new Map(), new RouteChangeLog());
  assert.deepEqual([...d.withdrawals.keys()].sort(), ['198.18.3.0/24', '2001:db8:103::/48']);
});

test('coverage still holds: a large edge cannot withdraw its /24 with only one other supernet announcer', () => {
  const snap = sealSnapshot(1, labWorld());
  const d = decideLocalWithdrawals(snap, 'fra', WWW, new Map(), new RouteChangeLog());
  // fra's /24 and /48 need 2 other announcers of the supernet: only iad. The /20 and /40
  // (the anycast address) may go: iad still announces them, so www keeps a route.
  assert.deepEqual([...d.withdrawals.keys()].sort(), ['198.18.0.0/20', '2001:db8:100::/40']);
  assert.deepEqual(d.refused.map((r) => `${r.prefix} ${r.verdict.ok ? '' : r.verdict.rule}`).sort(), [
    '198.18.1.0/24 coverage',
    '2001:db8:101::/48 coverage',
  ]);
});

test('never the last route: the last announcer of the supernet keeps it', () => {
  const body = labWorld(['fra', 'iad', 'lhr'], ['fra']);
  const d = decideLocalWithdrawals(sealSnapshot(1, body), 'fra', WWW, new Map(), new RouteChangeLog());
  assert.ok(!d.withdrawals.has('198.18.0.0/20'));
  assert.ok(d.refused.some((r) => r.prefix === '198.18.0.0/20' && !r.verdict.ok && r.verdict.rule === 'last-route'));
});

test('one healthy service keeps a shared prefix announced', () => {
  const body = labWorld();
  body.services.push({ ...structuredClone(body.services[0]!), name: 'api.example.net' });
  const d = decideLocalWithdrawals(sealSnapshot(1, body), 'lhr', WWW, new Map(), new RouteChangeLog());
  assert.equal(d.withdrawals.size, 0);
  const both = decideLocalWithdrawals(
    sealSnapshot(1, body),
    'lhr',
    new Set(['www.example.net', 'api.example.net']),
    new Map(),
    new RouteChangeLog(),
  );
  assert.equal(both.withdrawals.size, 2);
});

test('a recovered prefix waits for the route-change budget, then returns', () => {
  const body = labWorld();
  body.settings.routeChangesPerPrefixPerHour = 2;
  const snap = sealSnapshot(1, body);
  const log = new RouteChangeLog();
  const t0 = Date.now();
  let cur = decideLocalWithdrawals(snap, 'lhr', WWW, new Map(), log, t0).withdrawals; // change 1
  cur = decideLocalWithdrawals(snap, 'lhr', new Set(), cur, log, t0 + 1000).withdrawals; // change 2
  assert.equal(cur.size, 0);
  cur = decideLocalWithdrawals(snap, 'lhr', WWW, cur, log, t0 + 2000).withdrawals; // a failing service always withdraws
  assert.equal(cur.size, 2);
  const held = decideLocalWithdrawals(snap, 'lhr', new Set(), cur, log, t0 + 3000);
  assert.deepEqual(held.held.sort(), ['198.18.3.0/24', '2001:db8:103::/48']);
  assert.match(held.withdrawals.get('198.18.3.0/24') ?? '', /held by the route-change budget/);
  const later = decideLocalWithdrawals(snap, 'lhr', new Set(), held.withdrawals, log, t0 + 3_600_000 + 1000);
  assert.equal(later.withdrawals.size, 0);
});

test('a local withdrawal that loses its coverage in a new snapshot is announced again', () => {
  const snap1 = sealSnapshot(1, labWorld());
  const log = new RouteChangeLog();
  const cur = decideLocalWithdrawals(snap1, 'lhr', WWW, new Map(), log).withdrawals;
  const body = labWorld();
  body.announcements = [{ edge: 'iad', prefix: '198.18.0.0/20', state: 'withdrawn', communities: [], reason: 'run 9' }];
  const d = decideLocalWithdrawals(sealSnapshot(2, body), 'lhr', WWW, cur, log);
  assert.ok(!d.withdrawals.has('198.18.3.0/24'), 'coverage beats local health');
  assert.ok(d.withdrawals.has('2001:db8:103::/48'), 'the IPv6 supernet still has two announcers');
});

test('humans win: frozen automation or a force-up override keeps every route announced', () => {
  const log = new RouteChangeLog();
  const cur = decideLocalWithdrawals(sealSnapshot(1, labWorld()), 'lhr', WWW, new Map(), log).withdrawals;
  assert.equal(cur.size, 2);
  const frozen = labWorld();
  frozen.automation.frozenEdges = ['lhr'];
  const d = decideLocalWithdrawals(sealSnapshot(2, frozen), 'lhr', WWW, cur, log);
  assert.equal(d.withdrawals.size, 0);
  assert.deepEqual(d.changed.sort(), ['198.18.3.0/24', '2001:db8:103::/48']);
  const all = labWorld();
  all.automation.frozen = true;
  assert.equal(decideLocalWithdrawals(sealSnapshot(3, all), 'lhr', WWW, new Map(), log).withdrawals.size, 0);
  const forced = labWorld();
  forced.edges = forced.edges.map((e) => (e.name === 'lhr' ? { ...e, override: 'force-up' as const } : e));
  assert.equal(decideLocalWithdrawals(sealSnapshot(4, forced), 'lhr', WWW, new Map(), log).withdrawals.size, 0);
});
