import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addressPrefix,
  canonicalPrefix,
  comparePrefixes,
  contains,
  covers,
  firstAddress,
  lastAddress,
  longestMatch,
  overlaps,
  parsePrefix,
  prefixProblem,
  size,
  subnets,
  supernet,
} from '../src/index.ts';

test('parses IPv4 and IPv6 prefixes to canonical text', () => {
  assert.equal(parsePrefix('198.18.1.0/24').text, '198.18.1.0/24');
  assert.equal(parsePrefix('2001:DB8:0101:0::/48').text, '2001:db8:101::/48');
  assert.equal(parsePrefix('0.0.0.0/0').length, 0);
  assert.equal(parsePrefix('::/0').family, 6);
  assert.equal(canonicalPrefix('2001:0db8::/32'), '2001:db8::/32');
  assert.equal(parsePrefix('198.18.1.7/24', { allowHostBits: true }).text, '198.18.1.0/24');
});

test('refuses bad prefixes with a reason', () => {
  assert.match(prefixProblem('198.18.1.1/24') ?? '', /host bits are set: the network is 198\.18\.1\.0\/24/);
  assert.match(prefixProblem('198.18.1.0/33') ?? '', /longer than \/32/);
  assert.match(prefixProblem('2001:db8::/129') ?? '', /longer than \/128/);
  assert.match(prefixProblem('198.18.1.0') ?? '', /must be a prefix/);
  assert.match(prefixProblem('198.18.1/24') ?? '', /not an IPv4 or IPv6/);
  assert.match(prefixProblem('198.18.1.0/x') ?? '', /not a prefix length/);
  assert.throws(() => parsePrefix('10.0.0.1/8'), /invalid prefix/);
});

test('containment, covering and overlap', () => {
  const sup = parsePrefix('198.18.0.0/20');
  const uni = parsePrefix('198.18.4.0/24');
  const out = parsePrefix('198.18.16.0/24');
  assert.ok(contains(sup, uni));
  assert.ok(covers(sup, uni));
  assert.ok(contains(sup, sup));
  assert.ok(!covers(sup, sup));
  assert.ok(!contains(uni, sup));
  assert.ok(!contains(sup, out));
  assert.ok(overlaps(uni, sup) && overlaps(sup, uni) && !overlaps(sup, out));
  assert.ok(!contains(parsePrefix('::/0'), uni), 'families never contain each other');
  assert.ok(covers(parsePrefix('2001:db8:100::/40'), parsePrefix('2001:db8:104::/48')));
  assert.ok(!covers(parsePrefix('2001:db8:100::/40'), parsePrefix('2001:db8:200::/48')));
});

test('supernets, subnets, sizes, bounds', () => {
  assert.equal(supernet(parsePrefix('198.18.4.0/24'), 20).text, '198.18.0.0/20');
  assert.equal(supernet(parsePrefix('2001:db8:104::/48'), 40).text, '2001:db8:100::/40');
  assert.throws(() => supernet(parsePrefix('198.18.4.0/24'), 25));
  const subs = subnets(parsePrefix('198.18.0.0/22'), 24);
  assert.deepEqual(
    subs.map((s) => s.text),
    ['198.18.0.0/24', '198.18.1.0/24', '198.18.2.0/24', '198.18.3.0/24'],
  );
  assert.throws(() => subnets(parsePrefix('10.0.0.0/8'), 32), /more than/);
  assert.equal(size(parsePrefix('198.18.0.0/20')), 4096n);
  assert.equal(size(parsePrefix('2001:db8::/64')), 1n << 64n);
  assert.equal(firstAddress(parsePrefix('198.18.0.0/20')), '198.18.0.0');
  assert.equal(lastAddress(parsePrefix('198.18.0.0/20')), '198.18.15.255');
  assert.equal(lastAddress(parsePrefix('2001:db8:100::/40')), '2001:db8:1ff:ffff:ffff:ffff:ffff:ffff');
});

test('address prefixes, IPv4-mapped addresses, ordering and longest match', () => {
  assert.equal(addressPrefix('198.18.1.10').text, '198.18.1.10/32');
  assert.equal(addressPrefix('::ffff:198.18.1.10').text, '198.18.1.10/32');
  assert.equal(addressPrefix('2001:db8:101::10').text, '2001:db8:101::10/128');
  const list = ['2001:db8::/32', '198.18.1.0/24', '198.18.0.0/20', '10.0.0.0/8'].map((p) => parsePrefix(p));
  assert.deepEqual(
    list.sort(comparePrefixes).map((p) => p.text),
    ['10.0.0.0/8', '198.18.0.0/20', '198.18.1.0/24', '2001:db8::/32'],
  );
  const table = list.map((prefix) => ({ prefix }));
  assert.equal(longestMatch(table, addressPrefix('198.18.1.10'))?.prefix.text, '198.18.1.0/24');
  assert.equal(longestMatch(table, addressPrefix('198.18.2.10'))?.prefix.text, '198.18.0.0/20');
  assert.equal(longestMatch(table, addressPrefix('192.0.2.1')), undefined);
});
