import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PORTS, runtimeSettings } from '@catchment/core';
import { BirdSpeaker, GobgpSpeaker, type Speaker } from '@catchment/routing';
import { Registry } from 'prom-client';
import type { EdgeAgentOptions } from './agent.ts';
import type { HealthCheckSpec } from './health.ts';
import { parseLoadSpec } from './load/spec.ts';
import { XdpDsrApplier } from './xdp/index.ts';

/**
 * The agent's settings from the environment (every one has a default but the edge name):
 *  CATCHMENT_EDGE                  edge name in the snapshot (required)
 *  CATCHMENT_API_URL/_TOKEN        API to follow and report to (a comma-separated list fails over in order)
 *  CATCHMENT_API_CA, CATCHMENT_API_CLIENT_CERT/_KEY   CA of the API's certificate, this agent's client certificate
 *  CATCHMENT_EDGE_CACHE            last-known-good snapshot file ($CATCHMENT_DATA_DIR/edge-<name>.snapshot.json)
 *  CATCHMENT_EDGE_SPEAKER          bird (default) or gobgp
 *  BIRD_SOCKET, BIRD_CONFIG, BIRD_INCLUDE   /run/bird/bird.ctl, /etc/bird/bird.conf, /etc/bird/catchment.conf
 *  BIRD_PEERS                      comma-separated BGP protocols whose exports confirm an apply (default: all established)
 *  GOBGP_TARGET, GOBGP_TRANSPORT  gobgpd API (127.0.0.1:50051 or unix:///path), grpc (default) or cli
 *  CATCHMENT_EDGE_CHECKS           JSON file: array of health checks (service, kind, host, port, ...)
 *  CATCHMENT_EDGE_RECONCILE_CRON   drift repair schedule (default every 30 s)
 *  CATCHMENT_EDGE_MAX_PREFIXES     per session and family (default 1000)
 *  CATCHMENT_EDGE_GRACEFUL_SHUTDOWN=1 and CATCHMENT_EDGE_GRACEFUL_WAIT_MS: RFC 8326 on planned stop
 *  CATCHMENT_EDGE_HTTP             host:port of metrics and health (default 127.0.0.1:8455)
 *  CATCHMENT_EDGE_CHECK_ADDRESSES  0: skip the check that this host has the service addresses it must accept
 *  CATCHMENT_EDGE_XDP_IFACE        interface for the XDP DSR program (default: no XDP applier)
 *  CATCHMENT_EDGE_XDP_NETNS, _OBJECT, _MODE, _INSTANCE   its namespace, prebuilt object,
 *                                  attach mode (auto, native, generic) and pin name
 *  CATCHMENT_EDGE_XDP_FLOW_IDLE    seconds a redirected flow may idle (default 300; the same on every edge)
 *  CATCHMENT_EDGE_LOAD             load source reported to the API (default: none), one of
 *                                  prometheus:<url>#<metric>{<label matchers>}  (an exporter's counter or gauge)
 *                                  xdp[:flows|:offered-flows]  (new connections, from the XDP DSR counters)
 *  CATCHMENT_EDGE_LOAD_TYPE        prometheus only: auto (the exposition's # TYPE, default), counter or gauge
 *  CATCHMENT_EDGE_LOAD_INTERVAL_MS sampling interval, the rate's window (default 5000)
 *  CATCHMENT_EDGE_LOAD_TIMEOUT_MS  a read taking longer fails (default: the interval, at most 5000)
 */
export function agentOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Omit<EdgeAgentOptions, 'logger'> {
  const edge = env.CATCHMENT_EDGE;
  if (!edge) throw new Error('CATCHMENT_EDGE (the edge name) is required');
  const rt = runtimeSettings(env);
  const speaker: Speaker =
    (env.CATCHMENT_EDGE_SPEAKER ?? 'bird') === 'gobgp'
      ? new GobgpSpeaker({
          target: env.GOBGP_TARGET ?? '127.0.0.1:50051',
          ...(env.GOBGP_TRANSPORT === 'cli' || env.GOBGP_TRANSPORT === 'grpc'
            ? { transport: env.GOBGP_TRANSPORT }
            : {}),
        })
      : new BirdSpeaker({
          socket: env.BIRD_SOCKET ?? '/run/bird/bird.ctl',
          mainConfig: env.BIRD_CONFIG ?? '/etc/bird/bird.conf',
          includeFile: env.BIRD_INCLUDE ?? '/etc/bird/catchment.conf',
          ...(env.BIRD_PEERS ? { peers: env.BIRD_PEERS.split(',').map((p) => p.trim()) } : {}),
        });
  const checks = env.CATCHMENT_EDGE_CHECKS ? parseChecks(readFileSync(env.CATCHMENT_EDGE_CHECKS, 'utf8')) : [];
  const [host, port] = (() => {
    const v = env.CATCHMENT_EDGE_HTTP ?? `127.0.0.1:${DEFAULT_PORTS.edgeHttp}`;
    const i = v.lastIndexOf(':');
    return [v.slice(0, i).replace(/^\[|\]$/g, ''), Number(v.slice(i + 1))] as const;
  })();
  const xdp = xdpFromEnv(env);
  const load = loadFromEnv(env, xdp?.applier);
  return {
    edge,
    speaker,
    ...(xdp ? { appliers: [xdp.applier], registry: xdp.registry } : {}),
    ...(load ? { load } : {}),
    apiUrl: rt.apiUrl,
    token: rt.apiToken,
    apiTls: rt.apiTls,
    cacheFile: env.CATCHMENT_EDGE_CACHE ?? join(rt.dataDir, `edge-${edge}.snapshot.json`),
    checks,
    reconcileCron: env.CATCHMENT_EDGE_RECONCILE_CRON,
    maxPrefixesPerSession: env.CATCHMENT_EDGE_MAX_PREFIXES ? Number(env.CATCHMENT_EDGE_MAX_PREFIXES) : undefined,
    gracefulShutdownOnStop: env.CATCHMENT_EDGE_GRACEFUL_SHUTDOWN === '1',
    gracefulShutdownWaitMs: env.CATCHMENT_EDGE_GRACEFUL_WAIT_MS
      ? Number(env.CATCHMENT_EDGE_GRACEFUL_WAIT_MS)
      : undefined,
    http: port === 0 && host === 'off' ? false : { host, port },
    ...(env.CATCHMENT_EDGE_CHECK_ADDRESSES === '0' ? { addressCheck: false as const } : {}),
  };
}

/** The XDP DSR applier when CATCHMENT_EDGE_XDP_IFACE names an interface; its metrics share the agent's registry. */
export function xdpFromEnv(env: NodeJS.ProcessEnv): { applier: XdpDsrApplier; registry: Registry } | undefined {
  const iface = env.CATCHMENT_EDGE_XDP_IFACE;
  if (!iface) return undefined;
  const mode = env.CATCHMENT_EDGE_XDP_MODE ?? 'auto';
  if (mode !== 'auto' && mode !== 'native' && mode !== 'generic') {
    throw new Error(`CATCHMENT_EDGE_XDP_MODE must be auto, native or generic, not "${mode}"`);
  }
  const idle = env.CATCHMENT_EDGE_XDP_FLOW_IDLE;
  if (idle !== undefined && idle !== '' && !(Number.isInteger(Number(idle)) && Number(idle) >= 1)) {
    throw new Error(`CATCHMENT_EDGE_XDP_FLOW_IDLE must be a whole number of seconds >= 1, not "${idle}"`);
  }
  const registry = new Registry();
  // The agent's metrics join this registry: keep their edge label (the controller's queries select by it).
  if (env.CATCHMENT_EDGE) registry.setDefaultLabels({ edge: env.CATCHMENT_EDGE });
  const applier = new XdpDsrApplier({
    iface,
    mode,
    registry,
    ...(env.CATCHMENT_EDGE_XDP_NETNS ? { netns: env.CATCHMENT_EDGE_XDP_NETNS } : {}),
    ...(env.CATCHMENT_EDGE_XDP_OBJECT ? { object: env.CATCHMENT_EDGE_XDP_OBJECT } : {}),
    ...(env.CATCHMENT_EDGE_XDP_INSTANCE ? { instance: env.CATCHMENT_EDGE_XDP_INSTANCE } : {}),
    ...(idle ? { flowIdleSeconds: Number(idle) } : {}),
  });
  return { applier, registry };
}

/** The load source of CATCHMENT_EDGE_LOAD and its settings; undefined when unset. */
export function loadFromEnv(env: NodeJS.ProcessEnv, xdp?: XdpDsrApplier): EdgeAgentOptions['load'] {
  const spec = env.CATCHMENT_EDGE_LOAD?.trim();
  if (!spec) return undefined;
  const ms = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`${name} must be a whole number of milliseconds >= 1, not "${v}"`);
    return n;
  };
  const intervalMs = ms('CATCHMENT_EDGE_LOAD_INTERVAL_MS');
  const timeoutMs = ms('CATCHMENT_EDGE_LOAD_TIMEOUT_MS');
  const source = parseLoadSpec(spec, {
    type: env.CATCHMENT_EDGE_LOAD_TYPE,
    timeoutMs,
    xdpCounters: xdp ? () => xdp.readCounters() : undefined,
  });
  return {
    source,
    ...(intervalMs === undefined ? {} : { intervalMs }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

/** The health check file: a JSON array of checks; every problem is reported with its index. */
export function parseChecks(text: string): HealthCheckSpec[] {
  const list = JSON.parse(text) as unknown;
  if (!Array.isArray(list)) throw new Error('health checks must be a JSON array');
  return list.map((c: Record<string, unknown>, i) => {
    const bad = (what: string) => new Error(`health check ${i}: ${what}`);
    if (typeof c?.service !== 'string' || c.service === '') throw bad('service must be a DNS name');
    if (c.kind !== 'tcp' && c.kind !== 'http') throw bad('kind must be tcp or http');
    if (typeof c.host !== 'string' || c.host === '') throw bad('host is required');
    if (!Number.isInteger(c.port) || (c.port as number) < 1 || (c.port as number) > 65535)
      throw bad('port must be 1-65535');
    for (const k of ['intervalMs', 'timeoutMs', 'fall', 'rise', 'dwellMs']) {
      if (c[k] !== undefined && (typeof c[k] !== 'number' || (c[k] as number) < 0))
        throw bad(`${k} must be a number >= 0`);
    }
    return c as unknown as HealthCheckSpec;
  });
}
