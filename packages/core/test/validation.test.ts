import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CatchmentError,
  cidrContains,
  cidrProblem,
  communityProblem,
  durationProblem,
  MAX_DURATION_MS,
  MAX_DURATION_TEXT,
  normaliseName,
  parseCidr,
  parseConfigText,
  parseDuration,
  recordValueProblem,
  validateConfig,
} from '@catchment/core';

describe('CIDR checks', () => {
  const table: [string, RegExp | undefined][] = [
    ['198.18.1.0/24', undefined],
    ['2001:db8:101::/48', undefined],
    ['0.0.0.0/0', undefined],
    ['198.18.1.1/24', /host bits are set: the network is 198\.18\.1\.0\/24/],
    ['2001:db8::1/48', /host bits/],
    ['198.18.1.0', /must be a CIDR/],
    ['198.18.1.0/33', /longer than \/32/],
    ['2001:db8::/129', /longer than \/128/],
    ['300.1.1.0/24', /not an IPv4 or IPv6 address/],
    ['10.1/16', /not an IPv4 or IPv6 address/],
    ['198.18.1.0/-1', /not a prefix length/],
    ['198.18.1.0/2x', /not a prefix length/],
  ];
  for (const [text, problem] of table) {
    it(`${text} → ${problem ?? 'valid'}`, () => {
      const got = cidrProblem(text);
      if (problem) assert.match(got ?? '', problem);
      else assert.equal(got, undefined);
    });
  }
  it('containment respects family and length', () => {
    assert.ok(cidrContains(parseCidr('198.18.0.0/20'), parseCidr('198.18.15.0/24')));
    assert.ok(!cidrContains(parseCidr('198.18.0.0/20'), parseCidr('198.18.16.0/24')));
    assert.ok(!cidrContains(parseCidr('198.18.1.0/24'), parseCidr('198.18.0.0/20')));
    assert.ok(cidrContains(parseCidr('2001:db8:100::/40'), parseCidr('2001:db8:1ff::/48')));
    assert.ok(!cidrContains(parseCidr('::/0'), parseCidr('10.0.0.0/8')));
  });
});

describe('community syntax', () => {
  const table: [string, boolean][] = [
    ['64500:100', true],
    ['65535:65535', true],
    ['65536:1', false],
    ['64500:1:4294967295', true],
    ['64500:1:4294967296', false],
    ['1:2:3:4', false],
    ['NO_EXPORT', true],
    ['GRACEFUL_SHUTDOWN', true],
    ['BLACKHOLE', true],
    ['NO_SUCH_THING', false],
    ['a:b', false],
  ];
  for (const [text, ok] of table) {
    it(`${text} is ${ok ? 'valid' : 'refused'}`, () => assert.equal(communityProblem(text) === undefined, ok));
  }
});

describe('configuration validation', () => {
  it('reports YAML syntax errors with their line', () => {
    assert.throws(
      () => parseConfigText('edges:\n  - name: a\n   bad: [\n'),
      (err: CatchmentError) => err.code === 'CONFIG_UNREADABLE' && /line \d/.test(err.errors[0]?.path ?? ''),
    );
  });
  it('refuses duplicate keys in YAML', () => {
    assert.throws(() => parseConfigText('edges: []\nedges: []\n'), CatchmentError);
  });
  it('lists reference, hysteresis and playbook errors together', () => {
    assert.throws(
      () =>
        validateConfig({
          edges: [
            { name: 'a', location: { lat: 0, lon: 0, country: 'DE', continent: 'EU' }, capacity: { rps: 1 } },
            { name: 'a', location: { lat: 0, lon: 0, country: 'DE', continent: 'EU' }, capacity: { rps: 1 } },
          ],
          slos: [{ name: 's', edge: 'b', metric: 'utilisation', enter: 0.5, exit: 0.9, window: '5m' }],
          playbooks: [
            {
              name: 'p',
              trigger: { slo: 'nope' },
              steps: [
                { kind: 'dns-shift', schedule: [50, 25] },
                { kind: 'communities', intents: ['prepend-9x'] },
              ],
            },
          ],
        }),
      (err: CatchmentError) => {
        const found = err.errors.map((e) => `${e.path} ${e.code}`).sort();
        assert.deepEqual(found, [
          '/edges/1/name NAME_TAKEN',
          '/playbooks/0/steps/0/schedule/1 PLAYBOOK_INVALID',
          '/playbooks/0/steps/1/intents/0 REFERENCE_UNKNOWN',
          '/playbooks/0/trigger/slo REFERENCE_UNKNOWN',
          '/slos/0/edge REFERENCE_UNKNOWN',
          '/slos/0/exit SLO_INVALID',
        ]);
        return true;
      },
    );
  });
});

describe('domain rule codes', () => {
  it('every prefix rule has its own code', () => {
    const edge = { location: { lat: 0, lon: 0, country: 'DE', continent: 'EU' }, capacity: { rps: 1 } };
    assert.throws(
      () =>
        validateConfig({
          edges: [{ name: 'a', ...edge }],
          prefixes: [
            { kind: 'anycast', cidr: '198.18.0.0/16', announcers: ['a'] },
            { kind: 'unicast', cidr: '198.18.1.0/24', edge: 'a', supernet: '198.18.0.0/16' },
            { kind: 'unicast', cidr: '198.18.1.0/25', edge: 'a', communities: ['65536:1'] },
            { kind: 'unicast', cidr: '198.19.1.1/24', edge: 'a' },
            { kind: 'unicast', cidr: '198.20.1.0/24', edge: 'a', supernet: '198.18.0.0/16' },
            { kind: 'unicast', cidr: '198.21.1.0/24', edge: 'nope', supernet: '198.21.0.0/16' },
          ],
          settings: { maxAnnounceLengthV4: 24 },
        }),
      (err: CatchmentError) => {
        const found = err.errors.map((e) => `${e.path} ${e.code}`).sort();
        assert.deepEqual(found, [
          '/prefixes/2/cidr PREFIX_OVERLAP',
          '/prefixes/2/cidr PREFIX_TOO_LONG',
          '/prefixes/2/communities/0 COMMUNITY_INVALID',
          '/prefixes/3/cidr CIDR_INVALID',
          '/prefixes/4/supernet PREFIX_OUTSIDE_SUPERNET',
          '/prefixes/5/edge REFERENCE_UNKNOWN',
          '/prefixes/5/supernet REFERENCE_UNKNOWN',
        ]);
        return true;
      },
    );
  });
});

describe('DSR settings of edges', () => {
  const loc = { location: { lat: 0, lon: 0, country: 'DE', continent: 'EU' }, capacity: { rps: 1 } };
  const prefixes = [
    { kind: 'anycast', cidr: '198.18.0.0/20', announcers: ['big1', 'big2'] },
    { kind: 'unicast', cidr: '198.18.4.0/24', edge: 'small', supernet: '198.18.0.0/20' },
    { kind: 'unicast', cidr: '198.19.4.0/24', edge: 'small' },
    { kind: 'unicast', cidr: '198.19.1.0/24', edge: 'big1' },
  ];
  const codes = (edges: unknown[]) => {
    try {
      validateConfig({ edges, prefixes });
      return [];
    } catch (err) {
      return (err as CatchmentError).errors.map((e) => `${e.path} ${e.code} ${e.message}`);
    }
  };

  it('a DSR address inside an anycast prefix that others announce is refused, with why', () => {
    const got = codes([
      { name: 'big1', ...loc, dsrAddress: '198.19.1.1' },
      { name: 'big2', ...loc, dsrAddress: '198.18.0.12' },
      { name: 'small', ...loc, dsrAddress: '198.18.4.1' },
    ]);
    assert.equal(got.length, 2, got.join('\n'));
    assert.match(
      got[0]!,
      /^\/edges\/1\/dsrAddress DSR_ADDRESS_INVALID 198\.18\.0\.12 is inside anycast 198\.18\.0\.0\/20, announced by "big1" too/,
    );
    // Inside its own /24, but that /24 lies in the supernet: withdrawing it sends DSR traffic to anycast.
    assert.match(
      got[1]!,
      /^\/edges\/2\/dsrAddress DSR_ADDRESS_INVALID 198\.18\.4\.1 is inside anycast .*"big1", "big2"/,
    );
  });

  it("a DSR address inside another edge's unicast prefix is refused", () => {
    const got = codes([
      { name: 'big1', ...loc },
      { name: 'big2', ...loc },
      { name: 'small', ...loc, dsrAddress: '198.19.1.7' },
    ]);
    assert.deepEqual(got, [
      '/edges/2/dsrAddress DSR_ADDRESS_INVALID 198.19.1.7 is inside 198.19.1.0/24, the unicast prefix of edge "big1": DSR traffic would reach that edge',
    ]);
  });

  it('own unicast addresses outside the supernets, and addresses outside every prefix, are accepted', () => {
    assert.deepEqual(
      codes([
        { name: 'big1', ...loc, dsrAddress: '198.19.1.1' },
        { name: 'big2', ...loc, dsrAddress: '192.0.2.2' },
        { name: 'small', ...loc, dsrAddress: '198.19.4.1' },
      ]),
      [],
    );
  });

  it('encapsulation, GUE port and client prefixes are validated', () => {
    const got = codes([
      { name: 'big1', ...loc, dsr: { encap: 'gue', guePort: 6080 } },
      { name: 'big2', ...loc, dsr: { encap: 'gue', guePort: 7000 } },
      {
        name: 'small',
        ...loc,
        dsr: {
          guePort: 6080,
          clientPrefixes: [
            { cidr: '203.0.113.0/24', mode: 'never' },
            { cidr: '203.0.113.1/24', mode: 'always' },
            { cidr: '203.0.113.0/24', mode: 'always' },
          ],
        },
      },
    ]).map((l) => l.split(' ').slice(0, 2).join(' '));
    assert.deepEqual(got.sort(), [
      '/edges/1/dsr/guePort DSR_INVALID',
      '/edges/2/dsr/clientPrefixes/1/cidr CIDR_INVALID',
      '/edges/2/dsr/clientPrefixes/2/cidr DSR_INVALID',
      '/edges/2/dsr/guePort DSR_INVALID',
    ]);
    assert.throws(
      () => validateConfig({ edges: [{ name: 'a', ...loc, dsr: { encap: 'vxlan' } }] }),
      /configuration has/,
    );
  });
});

describe('names and durations', () => {
  it('normalises names to lower-case absolute form', () => {
    assert.equal(normaliseName('WWW', 'example.net'), 'www.example.net');
    assert.equal(normaliseName('@', 'example.net'), 'example.net');
    assert.equal(normaliseName('Other.Org.', 'example.net'), 'other.org');
    assert.equal(normaliseName('www.example.net', 'example.net'), 'www.example.net');
  });
  it('parses durations', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('5m'), 300_000);
    assert.throws(() => parseDuration('5 minutes'));
  });
  it('bounds every duration by one documented maximum', () => {
    assert.equal(parseDuration(MAX_DURATION_TEXT), MAX_DURATION_MS);
    assert.equal(durationProblem('366d'), undefined);
    assert.match(String(durationProblem('367d')), /longer than the longest duration, 366d/);
    assert.match(String(durationProblem('9999999999999d')), /longer than/);
    assert.match(String(durationProblem(`${'9'.repeat(40)}d`)), /not a duration/);
    assert.throws(() => parseDuration('9999999999999d'), /longer than/);
  });
});

describe('record data', () => {
  const zone = (records: { name: string; type: string; value: string }[]) => ({
    zones: [
      {
        name: 'example.net',
        soa: { mname: 'ns1', rname: 'h', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 },
        ns: ['ns1.example.net.'],
        records,
      },
    ],
  });
  it('checks the presentation format of every listed type', () => {
    const table: [string, string, RegExp | undefined][] = [
      ['A', '192.0.2.1', undefined],
      ['A', 'not-an-ip', /not an IPv4 address/],
      ['AAAA', '2001:db8::1', undefined],
      ['AAAA', '192.0.2.1', /not an IPv6 address/],
      ['CNAME', 'target.example.org.', undefined],
      ['CNAME', '-bad-', /not a domain name/],
      ['NS', 'ns1', undefined],
      ['PTR', 'host.example.net.', undefined],
      ['MX', '10 mail', undefined],
      ['MX', '0 .', undefined],
      ['MX', 'abc', /preference> <exchange>/],
      ['MX', '65536 mail', /MX preference must be 0-65535/],
      ['SRV', '10 5 443 www', undefined],
      ['SRV', 'x y z', /priority> <weight> <port> <target>/],
      ['TXT', 'plain words', undefined],
      ['TXT', '"a" "b\\"c"', undefined],
      ['TXT', '"open', /unterminated/],
      ['TXT', '"a" b', /outside quotes/],
      ['CAA', '0 issue "letsencrypt.org"', undefined],
      ['CAA', '256 issue "x"', /CAA flags must be 0-255/],
      ['CAA', '0 is-sue "x"', /CAA tag/],
    ];
    for (const [type, value, problem] of table) {
      const got = recordValueProblem(type, value);
      if (problem) assert.match(String(got), problem, `${type} ${value}`);
      else assert.equal(got, undefined, `${type} ${value}`);
    }
  });
  it('refuses bad data, a CNAME beside other data and at the apex, by path, in an imported file', () => {
    try {
      validateConfig(
        zone([
          { name: 'a', type: 'A', value: 'not-an-ip' },
          { name: 'h', type: 'A', value: '192.0.2.1' },
          { name: 'h', type: 'CNAME', value: 'x' },
          { name: '@', type: 'CNAME', value: 'x' },
          { name: 'ok', type: 'CNAME', value: 'h' },
        ]),
      );
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof CatchmentError);
      const paths = err.errors.map((e) => `${e.path} ${e.code}`);
      assert.deepEqual(paths.sort(), [
        '/zones/0/records/0/value RECORD_INVALID',
        '/zones/0/records/2/type CNAME_CONFLICT',
        '/zones/0/records/3/type CNAME_CONFLICT',
      ]);
    }
  });
});
