import assert from 'node:assert/strict';
import { test } from 'node:test';
import { communityProblem } from '@catchment/core';
import {
  communitySetKey,
  communityTextProblem,
  formatCommunity,
  isWellKnown,
  normaliseCommunities,
  parseCommunity,
  WELL_KNOWN_COMMUNITIES,
} from '../src/index.ts';

test('standard (RFC 1997) communities', () => {
  assert.deepEqual(parseCommunity('64500:100'), { kind: 'standard', asn: 64500, value: 100 });
  assert.equal(formatCommunity(parseCommunity('0:0')), '0:0');
  assert.equal(formatCommunity(parseCommunity('65535:65535')), '65535:65535');
  assert.match(communityTextProblem('65536:1') ?? '', /out of range \(16-bit/);
  assert.match(communityTextProblem('1:65536') ?? '', /out of range/);
});

test('large (RFC 8092) communities', () => {
  assert.deepEqual(parseCommunity('64500:70:150'), { kind: 'large', global: 64500, local1: 70, local2: 150 });
  assert.equal(formatCommunity(parseCommunity('4294967295:0:4294967295')), '4294967295:0:4294967295');
  assert.match(communityTextProblem('4294967296:0:0') ?? '', /32-bit/);
  assert.match(communityTextProblem('1:2:3:4') ?? '', /must be a:b/);
  assert.match(communityTextProblem('a:b') ?? '', /out of range/);
});

test('well-known names are standard communities in 65535:x and print as names', () => {
  assert.deepEqual(parseCommunity('GRACEFUL_SHUTDOWN'), { kind: 'standard', asn: 65535, value: 0 });
  assert.deepEqual(parseCommunity('NO_EXPORT'), { kind: 'standard', asn: 65535, value: 65281 });
  assert.deepEqual(parseCommunity('BLACKHOLE'), { kind: 'standard', asn: 65535, value: 666 });
  assert.equal(formatCommunity(parseCommunity('65535:65282')), 'NO_ADVERTISE');
  assert.equal(formatCommunity(parseCommunity('65535:0')), 'GRACEFUL_SHUTDOWN');
  assert.ok(isWellKnown(parseCommunity('65535:65284')));
  assert.ok(!isWellKnown(parseCommunity('65535:12345')));
  assert.match(communityTextProblem('NO_SUCH_THING') ?? '', /unknown well-known/);
});

test('the parser agrees with core syntax validation on every name and edge case', () => {
  const cases = [...Object.keys(WELL_KNOWN_COMMUNITIES), '1:2', '65535:65535', '65536:0', '1:2:3', '1:2:3:4', 'FOO'];
  for (const c of cases) assert.equal(communityTextProblem(c) === undefined, communityProblem(c) === undefined, c);
});

test('sets are sorted, deduplicated, standard before large', () => {
  const set = normaliseCommunities(['64500:70:150', '64500:100', 'GRACEFUL_SHUTDOWN', '65535:0', '100:1']);
  assert.deepEqual(set.map(formatCommunity), ['100:1', '64500:100', 'GRACEFUL_SHUTDOWN', '64500:70:150']);
  assert.equal(communitySetKey(parseSet('1:1 2:2')), communitySetKey(parseSet('2:2 1:1 1:1')));
});

function parseSet(text: string) {
  return text.split(' ').map(parseCommunity);
}
