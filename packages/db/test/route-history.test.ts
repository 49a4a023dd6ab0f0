import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RouteActionSpan, routeChanges } from '../src/route-history.ts';

const NOW = new Date('2026-11-22T02:00:00Z');
const ago = (min: number) => new Date(NOW.getTime() - min * 60_000);
const prefixes = [
  { cidr: '198.18.0.0/20', kind: 'anycast' as const, edge: null, announcers: ['fra', 'iad'], supernet: null },
  { cidr: '198.18.4.0/24', kind: 'unicast' as const, edge: 'lhr', announcers: ['lhr'], supernet: '198.18.0.0/20' },
];
const withdrawal = (start: number, end: number | null): RouteActionSpan => ({
  kind: 'withdraw-unicast',
  edge: 'lhr',
  prefix: '198.18.4.0/24',
  start: ago(start),
  end: end === null ? null : ago(end),
});
const times = (spans: RouteActionSpan[]) =>
  routeChanges(spans, prefixes, NOW).map((c) => (NOW.getTime() - c.at.getTime()) / 60_000);

describe('route-change history: real transitions', () => {
  it('withdraw and restore N times is N changes', () => {
    assert.deepEqual(times([withdrawal(50, 40), withdrawal(30, 20)]), [50, 40, 30, 20]);
    assert.deepEqual(times([withdrawal(50, 40), withdrawal(30, null)]), [50, 40, 30]);
  });
  it('a second withdrawal of a withdrawn prefix, or reverting one of two, changes nothing', () => {
    assert.deepEqual(times([withdrawal(50, 20), withdrawal(40, 30)]), [50, 20]);
    assert.deepEqual(times([withdrawal(50, 30), withdrawal(40, 20)]), [50, 20]);
    assert.deepEqual(times([withdrawal(50, null), withdrawal(40, 30)]), [50]);
  });
  it('an expiry that re-announces counts; changes older than an hour do not', () => {
    // readRouteSpans gives an expired action its expiry as the end.
    assert.deepEqual(times([withdrawal(90, 10)]), [10]);
    assert.deepEqual(times([withdrawal(120, 70)]), []);
  });
  it('communities change each prefix the edge announces, at each start and end', () => {
    const spans: RouteActionSpan[] = [{ kind: 'communities', edge: 'lhr', prefix: null, start: ago(30), end: ago(10) }];
    const changes = routeChanges(spans, prefixes, NOW);
    assert.deepEqual(
      changes.map((c) => c.prefix),
      ['198.18.4.0/24', '198.18.4.0/24'],
    );
  });
});
