import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BirdSpeaker, GobgpSpeaker } from '@catchment/routing';
import { Registry } from 'prom-client';
import { agentOptionsFromEnv, parseChecks } from '../src/config.ts';
import { createEdgeMetrics, startEdgeAgent } from '../src/index.ts';
import { XdpDsrApplier } from '../src/xdp/index.ts';

test('agent settings from the environment, with defaults', () => {
  assert.throws(() => agentOptionsFromEnv({}), /CATCHMENT_EDGE/);
  const o = agentOptionsFromEnv({ CATCHMENT_EDGE: 'lhr', CATCHMENT_DATA_DIR: '/var/lib/catchment' });
  assert.equal(o.edge, 'lhr');
  assert.ok(o.speaker instanceof BirdSpeaker);
  assert.equal(o.cacheFile, '/var/lib/catchment/edge-lhr.snapshot.json');
  assert.deepEqual(o.http, { host: '127.0.0.1', port: 8455 });
  assert.equal(o.gracefulShutdownOnStop, false);
  const g = agentOptionsFromEnv({
    CATCHMENT_EDGE: 'lhr',
    CATCHMENT_EDGE_SPEAKER: 'gobgp',
    CATCHMENT_EDGE_HTTP: '[::1]:9000',
    CATCHMENT_EDGE_GRACEFUL_SHUTDOWN: '1',
  });
  assert.ok(g.speaker instanceof GobgpSpeaker);
  assert.deepEqual(g.http, { host: '::1', port: 9000 });
  assert.equal(g.gracefulShutdownOnStop, true);
});

test('health check files are validated with the index of the bad entry', () => {
  const ok = parseChecks(
    '[{"service":"www.example.net","kind":"http","host":"127.0.0.1","port":8080,"path":"/health"}]',
  );
  assert.equal(ok[0]?.path, '/health');
  assert.throws(() => parseChecks('{}'), /JSON array/);
  assert.throws(() => parseChecks('[{"service":"a","kind":"udp","host":"h","port":1}]'), /check 0: kind/);
  assert.throws(() => parseChecks('[{"service":"a","kind":"tcp","host":"h","port":70000}]'), /port/);
  assert.throws(() => parseChecks('[{"service":"a","kind":"tcp","host":"h","port":80,"fall":-1}]'), /fall/);
});

test('a bad reconcile schedule is refused before anything starts', async () => {
  const speaker = new BirdSpeaker({
    socket: '/nonexistent/bird.ctl',
    includeFile: '/nonexistent/c.conf',
    mainConfig: '/nonexistent/b.conf',
  });
  await assert.rejects(
    startEdgeAgent({
      edge: 'lhr',
      speaker,
      apiUrl: 'http://127.0.0.1:9',
      cacheFile: '/nonexistent/s.json',
      reconcileCron: 'every minute',
    }),
    /invalid reconcile schedule "every minute"/,
  );
});

test('metrics can live on a registry shared with the appliers', async () => {
  const shared = new Registry();
  const m = createEdgeMetrics('lhr', shared);
  m.announcements.set({ state: 'announced' }, 2);
  assert.equal(m.registry, shared);
  assert.match(await shared.metrics(), /catchment_edge_announcements\{state="announced"\} 2/);
  assert.match(
    await createEdgeMetrics('lhr').registry.metrics(),
    /catchment_edge_seconds_since_last_apply\{edge="lhr"\} -1/,
  );
});

test('the XDP DSR applier is loaded when CATCHMENT_EDGE_XDP_IFACE names an interface', () => {
  assert.equal(agentOptionsFromEnv({ CATCHMENT_EDGE: 'fra' }).appliers, undefined);
  const o = agentOptionsFromEnv({
    CATCHMENT_EDGE: 'fra',
    CATCHMENT_EDGE_XDP_IFACE: 'eth1',
    CATCHMENT_EDGE_XDP_NETNS: 'edge-fra',
    CATCHMENT_EDGE_XDP_MODE: 'generic',
    CATCHMENT_EDGE_XDP_OBJECT: '/opt/catchment/catchment_dsr.o',
  });
  assert.equal(o.appliers?.length, 1);
  assert.ok(o.appliers?.[0] instanceof XdpDsrApplier);
  assert.ok(o.registry instanceof Registry, 'the applier’s metrics share the agent’s registry');
  assert.throws(
    () =>
      agentOptionsFromEnv({ CATCHMENT_EDGE: 'fra', CATCHMENT_EDGE_XDP_IFACE: 'eth1', CATCHMENT_EDGE_XDP_MODE: 'fast' }),
    /CATCHMENT_EDGE_XDP_MODE/,
  );
  assert.throws(
    () =>
      agentOptionsFromEnv({
        CATCHMENT_EDGE: 'fra',
        CATCHMENT_EDGE_XDP_IFACE: 'eth1',
        CATCHMENT_EDGE_XDP_FLOW_IDLE: '0.5',
      }),
    /CATCHMENT_EDGE_XDP_FLOW_IDLE/,
  );
  assert.equal(
    agentOptionsFromEnv({ CATCHMENT_EDGE: 'fra', CATCHMENT_EDGE_XDP_IFACE: 'eth1', CATCHMENT_EDGE_XDP_FLOW_IDLE: '60' })
      .appliers?.length,
    1,
  );
});
