import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sealSnapshot } from '@catchment/core';
import {
  announcementChanges,
  checkChanges,
  checkMaxPrefixes,
  checkRouteChangeBudget,
  checkTransition,
  checkWithdrawal,
  desiredAnnouncements,
  hasHeadroom,
  parsePrefix,
  RouteChangeLog,
  type SafetyVerdict,
} from '../src/index.ts';
import { edge, setEdge, world } from './fixtures.ts';

function refused(v: SafetyVerdict, rule: string, re?: RegExp) {
  assert.equal(v.ok, false, 'expected a refusal');
  if (!v.ok) {
    assert.equal(v.rule, rule);
    if (re) assert.match(v.reason, re);
  }
}

test('coverage: a /24 may be withdrawn while the /20 has K other healthy announcers with headroom', () => {
  assert.deepEqual(checkWithdrawal(sealSnapshot(1, world()), 'lhr', '198.18.4.0/24'), { ok: true });
  assert.deepEqual(checkWithdrawal(world(), 'lhr', '2001:db8:104::/48'), { ok: true });
  // fra withdrawing its own /24: fra does not count towards its own coverage; iad and sin remain.
  assert.deepEqual(checkWithdrawal(world(), 'fra', '198.18.1.0/24'), { ok: true });
});

test('coverage: unhealthy, overloaded, draining or non-announcing edges do not count', () => {
  let body = setEdge(world(), 'iad', { utilisation: 0.95 });
  assert.deepEqual(checkWithdrawal(body, 'lhr', '198.18.4.0/24'), { ok: true }, 'fra and sin still count');
  body = setEdge(body, 'sin', { state: 'draining', usable: false });
  refused(checkWithdrawal(body, 'lhr', '198.18.4.0/24'), 'coverage', /198\.18\.0\.0\/20 has 1 other healthy/);
  const withdrawn = world();
  withdrawn.announcements = ['fra', 'iad'].map((e) => ({
    edge: e,
    prefix: '198.18.0.0/20',
    state: 'withdrawn' as const,
    communities: [],
    reason: null,
  }));
  refused(checkWithdrawal(withdrawn, 'lhr', '198.18.4.0/24'), 'coverage', /has 1 other/);
  const k3 = world();
  k3.settings.coverageMinAnnouncers = 3;
  refused(checkWithdrawal(k3, 'fra', '198.18.1.0/24'), 'coverage', /2 other .* 3 needed/);
  assert.deepEqual(checkWithdrawal(k3, 'lhr', '198.18.4.0/24'), { ok: true });
});

test('coverage on observed state: announcers count only as their agents see the supernet exported, healthy, recently', () => {
  const now = Date.parse('2026-12-07T08:00:00Z');
  const seen = (ageS: number, exported: string[] | null, healthy = true, problems: string[] = []) => ({
    reportedAt: new Date(now - ageS * 1000).toISOString(),
    healthy,
    problems,
    exported,
  });
  const supernet = ['198.18.0.0/20', '2001:db8:100::/40'];
  let body = world();
  for (const e of body.edges) e.observed = seen(4, supernet);
  assert.deepEqual(checkWithdrawal(body, 'lhr', '198.18.4.0/24', { now }), { ok: true });
  // fra's session is down (nothing exported) and iad's agent fell silent 60 s ago: sin alone is left.
  body = setEdge(body, 'fra', { observed: seen(4, []) });
  body = setEdge(body, 'iad', { observed: seen(60, supernet) });
  const v = checkWithdrawal(body, 'lhr', '198.18.4.0/24', { now });
  refused(v, 'coverage', /has 1 other healthy/);
  refused(v, 'coverage', /fra: no established session exports 198\.18\.0\.0\/20 \(agent report 4 s old\)/);
  refused(v, 'coverage', /iad: health unknown, no agent report for 60 s \(bound 30 s\)/);
  // A longer bound (settings) makes iad's report recent enough again.
  const patient = structuredClone(body);
  patient.settings.agentReportStaleSeconds = 120;
  assert.deepEqual(checkWithdrawal(patient, 'lhr', '198.18.4.0/24', { now }), { ok: true });
  // The same report judged later: the bound is applied at the judging time, not at compile time.
  const fresh = setEdge(body, 'iad', { observed: seen(4, supernet) });
  assert.deepEqual(checkWithdrawal(fresh, 'lhr', '198.18.4.0/24', { now }), { ok: true });
  refused(checkWithdrawal(fresh, 'lhr', '198.18.4.0/24', { now: now + 40_000 }), 'coverage', /health unknown/);
  // Unhealthy (a failing check) although exported; a speaker that could not be read; never reported.
  refused(
    checkWithdrawal(
      setEdge(fresh, 'iad', { observed: seen(4, supernet, false, ['check www down']) }),
      'lhr',
      '198.18.4.0/24',
      { now },
    ),
    'coverage',
    /iad: not healthy, check www down/,
  );
  refused(
    checkWithdrawal(setEdge(fresh, 'iad', { observed: seen(4, null, false) }), 'lhr', '198.18.4.0/24', { now }),
    'coverage',
    /iad: exports unknown, its speaker could not be read/,
  );
  refused(
    checkWithdrawal(
      setEdge(fresh, 'iad', { observed: { reportedAt: null, healthy: false, problems: [], exported: null } }),
      'lhr',
      '198.18.4.0/24',
      { now },
    ),
    'coverage',
    /iad: health unknown, no agent has reported/,
  );
  // An operator's force-up wins over the observation.
  assert.deepEqual(checkWithdrawal(setEdge(body, 'iad', { override: 'force-up' }), 'lhr', '198.18.4.0/24', { now }), {
    ok: true,
  });
});

test('coverage: a prefix without covering supernet can never be withdrawn by automation', () => {
  const body = world();
  body.prefixes.push({
    cidr: '192.0.2.0/24',
    kind: 'unicast',
    edge: 'lhr',
    announcers: ['lhr'],
    supernet: null,
    communities: [],
  });
  refused(checkWithdrawal(body, 'lhr', '192.0.2.0/24'), 'coverage', /no anycast supernet covers/);
});

test("headroom: unknown load counts, forced-up edges count, the threshold is the edge's SLO threshold", () => {
  assert.ok(hasHeadroom(edge('x')));
  assert.ok(!hasHeadroom(edge('x', { utilisation: 0.9, loadRps: 900 })));
  assert.ok(hasHeadroom(edge('x', { utilisation: 0.9, loadRps: 900, threshold: 0.95 })));
  assert.ok(hasHeadroom(edge('x', { state: 'maintenance', override: 'force-up' })));
  assert.ok(!hasHeadroom(edge('x', { override: 'force-down', usable: false })));
});

test('changes are judged together: two withdrawals that each pass alone may fail as one step', () => {
  const body = setEdge(world(), 'iad', { utilisation: 0.95 });
  const fra = { edge: 'fra', prefix: '198.18.0.0/20', state: 'withdrawn' as const };
  const iad = { edge: 'iad', prefix: '198.18.0.0/20', state: 'withdrawn' as const };
  const lhr = { edge: 'lhr', prefix: '198.18.4.0/24', state: 'withdrawn' as const };
  assert.deepEqual(checkChanges(body, [lhr]), { ok: true });
  assert.deepEqual(checkChanges(body, [fra]), { ok: true });
  refused(checkChanges(body, [lhr, fra]), 'coverage', /has 1 other/);
  refused(checkChanges(body, [fra, iad, lhr]), 'coverage');
});

test('withdrawing a supernet announcement keeps coverage for /24s already withdrawn under it', () => {
  const body = setEdge(world(), 'iad', { utilisation: 0.95 });
  body.announcements = [{ edge: 'lhr', prefix: '198.18.4.0/24', state: 'withdrawn', communities: [], reason: 'run 1' }];
  refused(
    checkWithdrawal(body, 'fra', '198.18.0.0/20'),
    'coverage',
    /withdrawing 198\.18\.0\.0\/20 at fra breaks coverage/,
  );
  body.announcements = [];
  assert.deepEqual(checkWithdrawal(body, 'fra', '198.18.0.0/20'), { ok: true });
});

test('last route: a service never loses its last announced route', () => {
  const body = world();
  body.announcements = ['fra', 'iad'].map((e) => ({
    edge: e,
    prefix: '2001:db8:100::/40',
    state: 'withdrawn' as const,
    communities: [],
    reason: null,
  }));
  refused(checkWithdrawal(body, 'sin', '2001:db8:100::/40'), 'last-route', /www\.example\.net .* 2001:db8:100::1/);
  // An address the world never routed is not this change's fault.
  body.services[0]!.anycast.v4 = '203.0.113.1';
  assert.deepEqual(checkWithdrawal(world(), 'sin', '198.18.0.0/20'), { ok: true });
});

test('not-announcer: an edge can only change what it announces', () => {
  refused(checkWithdrawal(world(), 'lhr', '198.18.1.0/24'), 'not-announcer');
  refused(checkWithdrawal(world(), 'lhr', '198.18.0.0/20'), 'not-announcer');
  refused(checkWithdrawal(world(), 'lhr', '10.0.0.0/8'), 'not-announcer');
});

test('max prefixes per session, per family', () => {
  const set = desiredAnnouncements(world(), 'fra');
  assert.deepEqual(checkMaxPrefixes(set, 2), { ok: true });
  refused(checkMaxPrefixes(set, 1), 'max-prefixes', /2 IPv4 prefixes exceed the session limit of 1/);
  const withdrawn = set.map((a) => (a.prefix.family === 4 ? { ...a, state: 'withdrawn' as const } : a));
  refused(checkMaxPrefixes(withdrawn, 1), 'max-prefixes', /IPv6/);
  assert.deepEqual(checkMaxPrefixes([{ prefix: parsePrefix('10.0.0.0/8'), state: 'withdrawn' }], 0), { ok: true });
});

test('route-change budget per prefix per hour', () => {
  const now = Date.parse('2026-11-22T02:00:00Z');
  const min = 60_000;
  const history = [
    { prefix: '198.18.4.0/24', at: now - 70 * min },
    { prefix: '198.18.4.0/24', at: now - 50 * min },
    { prefix: '198.18.4.0/24', at: now - 10 * min },
    { prefix: '198.18.5.0/24', at: now - 1 * min },
  ];
  assert.deepEqual(checkRouteChangeBudget(history, '198.18.4.0/24', now, 3), { ok: true });
  const v = checkRouteChangeBudget(history, '198.18.4.0/24', now, 2);
  refused(v, 'route-change-budget', /changed 2 times in the last hour \(budget 2\/h\)/);
  assert.equal(!v.ok && v.details?.retryAt, '2026-11-22T02:10:00.000Z');
  const log = new RouteChangeLog();
  log.record('198.18.4.0/24', now - 61 * min);
  log.record('198.18.4.0/24', now - 1 * min);
  assert.equal(log.entries().length, 1, 'entries older than an hour are pruned');
  refused(log.check('198.18.4.0/24', 1, now), 'route-change-budget');
  assert.deepEqual(log.check('198.18.4.0/24', 2, now), { ok: true });
});

test('transitions: the changes between two snapshots, judged in the next one', () => {
  const prev = world();
  const next = world();
  next.announcements = [
    { edge: 'lhr', prefix: '198.18.4.0/24', state: 'withdrawn', communities: [], reason: 'run 1' },
    { edge: 'fra', prefix: '198.18.0.0/20', state: 'announced', communities: ['64500:2002'], reason: 'run 2' },
  ];
  assert.deepEqual(announcementChanges(prev, next), [{ edge: 'lhr', prefix: '198.18.4.0/24', state: 'withdrawn' }]);
  assert.deepEqual(announcementChanges(next, prev), [{ edge: 'lhr', prefix: '198.18.4.0/24', state: 'announced' }]);
  assert.deepEqual(checkTransition(sealSnapshot(1, prev), sealSnapshot(2, next)), { ok: true });
  // The same withdrawal while the next snapshot also takes two supernet announcers away.
  const worse = setEdge(setEdge(next, 'fra', { state: 'maintenance' }), 'iad', { utilisation: 0.99 });
  refused(checkTransition(prev, worse), 'coverage', /has 1 other healthy announcer/);
  // A prefix dropped from the configuration is a withdrawal of every announcer.
  const dropped = world();
  dropped.prefixes = dropped.prefixes.filter((p) => p.cidr !== '2001:db8:100::/40');
  assert.equal(announcementChanges(prev, dropped).filter((c) => c.prefix === '2001:db8:100::/40').length, 3);
  refused(checkTransition(prev, dropped), 'last-route', /2001:db8:100::1/);
});

test('transitions: the route-change budget of the next snapshot', () => {
  const prev = world();
  const next = world();
  next.announcements = [{ edge: 'lhr', prefix: '198.18.4.0/24', state: 'withdrawn', communities: [], reason: null }];
  const now = Date.now();
  const history = Array.from({ length: 6 }, (_, i) => ({ prefix: '198.18.4.0/24', at: now - i * 60_000 }));
  refused(checkTransition(prev, next, { history, now }), 'route-change-budget');
  assert.deepEqual(checkTransition(prev, next, { history: history.slice(0, 5), now }), { ok: true });
});
