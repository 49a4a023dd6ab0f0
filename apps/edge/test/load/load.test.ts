import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '@catchment/core';
import { agentOptionsFromEnv } from '../../src/config.ts';
import {
  CounterRate,
  ExpositionError,
  LoadSampler,
  matches,
  PrometheusLoadSource,
  parseExposition,
  parseLoadSpec,
  parseSelector,
  sampleKind,
  XdpLoadSource,
} from '../../src/load/index.ts';
import { createEdgeMetrics } from '../../src/metrics.ts';
import { nginxText, TestExporter } from './exporter.ts';

describe('exposition parser (strict)', () => {
  test('samples, labels with escapes, special values, timestamps, types', () => {
    const { types, samples } = parseExposition(
      [
        '# HELP http_requests_total Requests.',
        '# TYPE http_requests_total counter',
        'http_requests_total{method="post",code="200"} 1027 1395066363000',
        'http_requests_total{method="get",path="C:\\\\x \\"q\\"\\n",} 3',
        '# TYPE up gauge',
        'up +Inf',
        'down NaN',
        'x_total -1.5e3\r',
        '# TYPE lat histogram',
        'lat_count 7',
        '# EOF',
      ].join('\n'),
    );
    assert.equal(types.get('http_requests_total'), 'counter');
    assert.deepEqual(samples[0], {
      name: 'http_requests_total',
      labels: { method: 'post', code: '200' },
      value: 1027,
    });
    assert.deepEqual(samples[1]?.labels, { method: 'get', path: 'C:\\x "q"\n' });
    assert.equal(samples[2]?.value, Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(samples[3]?.value));
    assert.equal(samples[4]?.value, -1500);
    assert.equal(sampleKind(types, 'http_requests_total'), 'counter');
    assert.equal(sampleKind(types, 'up'), 'gauge');
    assert.equal(sampleKind(types, 'lat_count'), 'counter');
    assert.equal(sampleKind(types, 'down'), undefined);
  });

  test('malformed lines are errors with their line number, never numbers', () => {
    for (const [text, re] of [
      ['foo 1 2 3', /line 1: expected a value/],
      ['foo abc', /"abc" is not a number/],
      ['ok 1\nfoo{x=1} 2', /line 2: .*double quotes/],
      ['foo{x="1" 2', /expected , or }/],
      ['foo{x="1\\q"} 2', /bad escape/],
      ['foo{x="1} 2', /unterminated/],
      ['foo{x="1",x="2"} 2', /given twice/],
      ['foo 1 1.5', /not a timestamp/],
      ['foo', /expected a value/],
      ['9foo 1', /metric name/],
      ['foo{x="1"}2', /unexpected "2"/],
      ['# TYPE a counter\n# TYPE a gauge', /second TYPE/],
    ] as const) {
      assert.throws(
        () => parseExposition(text),
        (e: Error) => e instanceof ExpositionError && re.test(e.message),
        text,
      );
    }
  });
});

describe('selectors', () => {
  const s = (labels: Record<string, string>) => ({ name: 'm', labels, value: 1 });
  test('=, !=, =~, !~ (anchored), missing labels match ""', () => {
    const sel = parseSelector('m{a="x", b!="y", c=~"2..|3.*", d!~"ba.*"}');
    assert.equal(sel.metric, 'm');
    assert.ok(matches(sel, s({ a: 'x', c: '200' })));
    assert.ok(!matches(sel, s({ a: 'x', b: 'y', c: '200' })));
    assert.ok(!matches(sel, s({ a: 'x', c: '1200' })), 'regexes are anchored');
    assert.ok(!matches(sel, s({ a: 'x', c: '301', d: 'bad' })));
    assert.ok(!matches(parseSelector('other'), s({})));
    assert.ok(matches(parseSelector('m'), s({ any: 'thing' })));
  });
  test('bad selectors say why', () => {
    assert.throws(() => parseSelector('m{a="x"'), /unterminated|expected/);
    assert.throws(() => parseSelector('m{a=~"("}'), /label "a"/);
    assert.throws(() => parseSelector('m{a:"x"}'), /expected =~ or !~ or != or =/);
    assert.throws(() => parseSelector('{a="x"}'), /not a metric selector/);
    assert.throws(() => parseSelector('m{a="x"} junk'), /after }/);
  });
});

test('counter rate: first sample, per-series resets, new and vanished series', () => {
  const r = new CounterRate();
  const v = (o: Record<string, number>) => new Map(Object.entries(o));
  assert.equal(r.observe(v({ a: 100, b: 50 }), 0), undefined, 'no rate from one sample');
  assert.equal(r.observe(v({ a: 300, b: 150 }), 2000), 150);
  // b restarted and counted 20 since: its increase is 20, a's is 100.
  assert.equal(r.observe(v({ a: 400, b: 20 }), 3000), 120);
  // c is new (no increase known), a and b go on.
  assert.equal(r.observe(v({ a: 410, b: 30, c: 1000 }), 4000), 20);
  assert.equal(r.observe(v({ d: 5 }), 5000), undefined, 'no series in common: no rate');
  assert.equal(r.observe(v({ d: 5 }), 5000), undefined, 'no time passed: no rate');
});

describe('prometheus load source against a local exporter', () => {
  let exporter: TestExporter;
  before(async () => {
    exporter = await TestExporter.start();
  });
  after(() => exporter.close());
  const clock = () => exporter.scrapes * 1000;

  test('counter: sums the selected series, rate per second, resets, missing metric', async () => {
    let n = 0;
    exporter.body = () => nginxText({ www: 1000 + n * 200, api: 500 + n * 50, other: 1e9 + n * 1e6 });
    const src = new PrometheusLoadSource({
      url: exporter.url,
      selector: 'nginx_http_requests_total{server=~"www|api"}',
      now: clock,
    });
    assert.equal(await src.read(), undefined, 'first sample');
    n = 1;
    assert.equal(await src.read(), 250);
    n = 3; // two seconds' worth in one scrape second: 500/s
    assert.equal(await src.read(), 500);
    // nginx restarted: www counts 40 and api 10 since.
    exporter.body = () => nginxText({ www: 40, api: 10 });
    assert.equal(await src.read(), 50);
    exporter.body = () => '# TYPE other counter\nother 1\n';
    await assert.rejects(src.read(), /no series matches nginx_http_requests_total/);
    exporter.body = () => nginxText({ www: 100, api: 100 });
    assert.equal(await src.read(), undefined, 'after a gap without the series, a first sample again');
  });

  test('gauge as is; untyped needs a type; bad values and HTTP errors fail', async () => {
    exporter.body = () => nginxText({ www: 1 });
    const gauge = new PrometheusLoadSource({ url: exporter.url, selector: 'nginx_connections_active', now: clock });
    assert.equal(await gauge.read(), 12);
    exporter.body = () => 'rps{site="a"} 30\nrps{site="b"} 12.5\n';
    const untyped = new PrometheusLoadSource({ url: exporter.url, selector: 'rps', now: clock });
    await assert.rejects(untyped.read(), /set the type \(counter or gauge\)/);
    const typed = new PrometheusLoadSource({ url: exporter.url, selector: 'rps', type: 'gauge', now: clock });
    assert.equal(await typed.read(), 42.5);
    exporter.body = () => 'rps NaN\n';
    await assert.rejects(typed.read(), /is NaN, not a load/);
    exporter.body = () => 'rps{x="1"} 1 2 3\n';
    await assert.rejects(typed.read(), /exposition line 1/);
    exporter.status = 503;
    await assert.rejects(typed.read(), /HTTP 503/);
    exporter.status = 200;
  });

  test('the sampler keeps the last good rate, drops it on a failure, counts and recovers', async () => {
    let n = 0;
    exporter.body = () => nginxText({ www: n * 300 });
    const metrics = createEdgeMetrics('fra');
    const sampler = new LoadSampler({
      source: new PrometheusLoadSource({ url: exporter.url, selector: 'nginx_http_requests_total', now: clock }),
      intervalMs: 60_000,
      metrics,
      logger: createLogger('test', { level: 'silent' }),
    });
    await sampler.sample();
    assert.equal(sampler.current(), undefined, 'no rate after the first sample');
    n = 1;
    await sampler.sample();
    assert.equal(sampler.current()?.rps, 300);
    assert.equal(sampler.current()?.source, 'prometheus');
    assert.match(await metrics.registry.metrics(), /catchment_edge_load_rps\{source="prometheus",edge="fra"\} 300/);
    exporter.status = 500;
    await sampler.sample();
    assert.equal(sampler.current(), undefined, 'a failed read leaves no load to report');
    assert.match(sampler.lastError ?? '', /HTTP 500/);
    const text = await metrics.registry.metrics();
    assert.doesNotMatch(text, /catchment_edge_load_rps\{/, 'no stale gauge');
    assert.match(text, /catchment_edge_load_read_errors_total\{source="prometheus",edge="fra"\} 1/);
    exporter.status = 200;
    n = 3;
    await sampler.sample();
    assert.equal(sampler.current()?.rps, 300, 'the rate spans the failed read');
    assert.equal(sampler.lastError, null);
    await sampler.stop();
  });
});

test('xdp load source: new connections per second from the counters, resets per counter', async () => {
  const zero = {
    syn_local: 0n,
    syn_local_disabled: 0n,
    syn_prefix_never: 0n,
    syn_no_target: 0n,
    syn_shed: 0n,
    syn_prefix_always: 0n,
    pass_non_vip: 0n,
  };
  let c: typeof zero | undefined;
  let t = 0;
  const read = async () => c as never;
  const flows = new XdpLoadSource({ read, now: () => t });
  const offered = new XdpLoadSource({ read, counters: 'offered-flows', now: () => t });
  await assert.rejects(flows.read(), /not loaded/);
  c = { ...zero, syn_local: 100n, syn_shed: 50n, pass_non_vip: 10_000n };
  assert.equal(await flows.read(), undefined);
  assert.equal(await offered.read(), undefined);
  t = 2000;
  c = { ...zero, syn_local: 260n, syn_local_disabled: 0n, syn_no_target: 20n, syn_shed: 90n, pass_non_vip: 90_000n };
  assert.equal(await flows.read(), 90, '(160 kept + 20 without a target) / 2 s; shed and non-VIP not counted');
  assert.equal(await offered.read(), 110, 'shed connections are offered load');
  t = 3000;
  c = { ...zero, syn_local: 5n, syn_no_target: 20n }; // the map was recreated: syn_local counted 5 since
  assert.equal(await flows.read(), 5);
});

test('CATCHMENT_EDGE_LOAD and its settings, with clear errors', async () => {
  const env = (o: Record<string, string>) => agentOptionsFromEnv({ CATCHMENT_EDGE: 'fra', ...o });
  assert.equal(env({}).load, undefined);
  const p = env({
    CATCHMENT_EDGE_LOAD: 'prometheus:http://127.0.0.1:9113/metrics#nginx_http_requests_total{server="www"}',
    CATCHMENT_EDGE_LOAD_INTERVAL_MS: '2000',
    CATCHMENT_EDGE_LOAD_TYPE: 'counter',
  });
  assert.ok(p.load?.source instanceof PrometheusLoadSource);
  assert.equal(p.load?.intervalMs, 2000);
  assert.equal(p.load?.source.description, 'http://127.0.0.1:9113/metrics nginx_http_requests_total{server="www"}');
  const x = env({
    CATCHMENT_EDGE_LOAD: 'xdp:offered-flows',
    CATCHMENT_EDGE_XDP_IFACE: 'eth1',
    CATCHMENT_EDGE_XDP_OBJECT: '/nonexistent/catchment_dsr.o',
  });
  assert.ok(x.load?.source instanceof XdpLoadSource);
  assert.match(x.load?.source.description ?? '', /syn_shed/);
  // The agent's metrics join the XDP registry: the edge label stays (the controller selects by it).
  assert.match((await x.registry?.metrics()) ?? '', /catchment_xdp_shedding_enabled\{edge="fra"\} 0/);
  for (const [o, re] of [
    [
      { CATCHMENT_EDGE_LOAD: 'prometheus:http://127.0.0.1:9113/metrics' },
      /CATCHMENT_EDGE_LOAD: expected prometheus:<url>#<metric>/,
    ],
    [{ CATCHMENT_EDGE_LOAD: 'prometheus:not a url#m' }, /CATCHMENT_EDGE_LOAD: "not a url" is not a URL/],
    [{ CATCHMENT_EDGE_LOAD: 'prometheus:ftp://h/metrics#m' }, /CATCHMENT_EDGE_LOAD: .*http or https/],
    [{ CATCHMENT_EDGE_LOAD: 'prometheus:http://h/metrics#m{a="x"' }, /CATCHMENT_EDGE_LOAD: selector/],
    [
      { CATCHMENT_EDGE_LOAD: 'prometheus:http://h/metrics#m', CATCHMENT_EDGE_LOAD_TYPE: 'summary' },
      /CATCHMENT_EDGE_LOAD_TYPE must be auto, counter or gauge/,
    ],
    [{ CATCHMENT_EDGE_LOAD: 'xdp' }, /CATCHMENT_EDGE_LOAD: the xdp source needs .*CATCHMENT_EDGE_XDP_IFACE/],
    [
      { CATCHMENT_EDGE_LOAD: 'xdp:bytes', CATCHMENT_EDGE_XDP_IFACE: 'eth1', CATCHMENT_EDGE_XDP_OBJECT: '/x.o' },
      /xdp counters must be flows or offered-flows/,
    ],
    [{ CATCHMENT_EDGE_LOAD: 'statsd:127.0.0.1:8125' }, /unknown source "statsd"/],
    [
      {
        CATCHMENT_EDGE_LOAD: 'xdp',
        CATCHMENT_EDGE_XDP_IFACE: 'eth1',
        CATCHMENT_EDGE_XDP_OBJECT: '/x.o',
        CATCHMENT_EDGE_LOAD_INTERVAL_MS: '5s',
      },
      /CATCHMENT_EDGE_LOAD_INTERVAL_MS must be a whole number/,
    ],
    [
      {
        CATCHMENT_EDGE_LOAD: 'xdp',
        CATCHMENT_EDGE_XDP_IFACE: 'eth1',
        CATCHMENT_EDGE_XDP_OBJECT: '/x.o',
        CATCHMENT_EDGE_LOAD_TIMEOUT_MS: '0',
      },
      /CATCHMENT_EDGE_LOAD_TIMEOUT_MS/,
    ],
  ] as const) {
    assert.throws(() => env(o), re, JSON.stringify(o));
  }
  assert.ok(parseLoadSpec('prometheus:https://[::1]:9113/metrics#up'));
});
