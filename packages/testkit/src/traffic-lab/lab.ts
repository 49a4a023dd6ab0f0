import { rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CatchmentConfig, createLogger } from '@catchment/core';
import { type Database, publishSnapshot } from '@catchment/db';
import { type Monitoring, startMonitoring } from '../alerting.ts';
import { freshDatabase, sharedCluster } from '../databases.ts';
import { cityRecord, writeMmdb } from '../mmdb-writer.ts';
import { freePort } from '../ports.ts';
import { onAbruptEnd, type Proc, startNode } from '../procs.ts';
import { tempDir } from '../tmp.ts';
import { until } from '../wait.ts';
import { seedWorld } from '../world.ts';
import { LabNetwork } from './network.ts';
import { catalogueIntents, TRANSITS } from './policy.ts';
import { ANYCAST, LAB_EDGES, REGIONS } from './topology.ts';

const root = (p: string) => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));
const DNS_MAIN = root('apps/dns/src/main.ts');
const EDGE_MAIN = root('apps/edge/src/main.ts');
const CONTROLLER_MAIN = root('apps/controller/src/main.ts');

/** The served-requests counter of the edges' HTTP servers: the load the agents report and Prometheus watches. */
export const SERVED_METRIC = 'catchment_lab_http_requests_total';

/** The API, handed in by the caller (an app: the testkit does not import apps). */
export interface LabApi {
  startApi(opts: {
    database: Database;
    logger: ReturnType<typeof createLogger>;
    pollMs?: number;
    rateLimit?: { max: number; timeWindowMs: number };
  }): Promise<StartedApi>;
  createToken(db: Database['db'], opts: { name: string; role: 'admin' }): Promise<{ token: string }>;
}

export interface StartedApi {
  url: string;
  close(): Promise<unknown>;
}

export interface TrafficLabOptions {
  api: LabApi;
  /** XDP objects (apps/edge buildBpf()): the DSR program on every edge's primary uplink. */
  bpf?: { dsr: string; pass: string };
  /** Requests/s each edge is sized for (the configuration's capacity). */
  capacityRps?: Partial<Record<string, number>>;
  /** Prometheus alerting rule (fires per edge); default: served rate above 90 % of capacity. */
  overloadRule?: string;
  /** Further changes to the lab's configuration before it is imported. */
  edit?: (config: CatchmentConfig) => void;
  /** Start the controller (default true). */
  controller?: boolean;
  controllerTick?: string;
  settings?: Record<string, unknown>;
}

const DEFAULT_CAPACITY: Record<string, number> = { fra: 60, iad: 80, lhr: 40, gru: 40 };

/**
 * The demo configuration reduced to the lab's edges (fra and iad large, announcing the
 * anycast supernet; lhr and gru small), both transits with their community catalogues,
 * and the policy without its Asia and Oceania rules.
 */
export function labConfig(config: CatchmentConfig, capacity: Record<string, number>): void {
  const names = new Set(LAB_EDGES.map((e) => e.name));
  config.edges = (config.edges ?? [])
    .filter((e) => names.has(e.name))
    .map((e) => ({ ...e, capacity: { rps: capacity[e.name] ?? e.capacity.rps } }));
  const [a, b] = TRANSITS as [(typeof TRANSITS)[0], (typeof TRANSITS)[0]];
  const demoA = config.transits?.find((t) => t.name === 'transit-a')?.intents ?? {};
  config.transits = [
    { name: a.name, asn: a.asn, intents: { ...demoA, ...catalogueIntents(a, b.asn) } },
    { name: b.name, asn: b.asn, intents: catalogueIntents(b, a.asn) },
  ];
  config.prefixes = (config.prefixes ?? [])
    .filter((p) => p.kind === 'anycast' || names.has(p.edge ?? ''))
    .map((p) => (p.kind === 'anycast' ? { ...p, announcers: ['fra', 'iad'] } : p));
  for (const p of config.policies ?? []) p.rules = [];
  for (const s of config.services ?? []) {
    s.addresses = Object.fromEntries(Object.entries(s.addresses ?? {}).filter(([edge]) => names.has(edge)));
  }
  config.slos = [];
}

/**
 * The GeoIP2 City database the lab's DNS server answers with: each region's blocks in its
 * country, one network per /24 (and IPv6 /48) block, so a DNS shift picks blocks one by one.
 * The simulator's lab scenario (docs/scenarios/lab-flash-crowd.yaml) uses the same bytes.
 */
export function labCityMmdb(): Buffer {
  return writeMmdb(
    REGIONS.flatMap((r) => [
      ...Array.from({ length: r.blocks }, (_, b) => ({
        cidr: `45.${r.octet}.${b}.0/24`,
        data: cityRecord(r.country, r.continent, r.lat, r.lon),
      })),
      ...Array.from({ length: r.blocks6 }, (_, b) => ({
        cidr: `2a0c:${r.octet}:${b}::/48`,
        data: cityRecord(r.country, r.continent, r.lat, r.lon),
      })),
    ]),
    { databaseType: 'GeoIP2-City' },
  );
}

/**
 * The traffic lab: the network (LabNetwork) and every part of Catchment on it: a throwaway
 * PostgreSQL database with the lab configuration, the API (in this process), a DNS server
 * (answering the lab's resolver with a GeoIP database that places each region's blocks in its
 * country), an edge agent per edge (its BIRD, its XDP program, the load its HTTP server
 * served), a controller, and Prometheus + Alertmanager scraping the edges' HTTP servers.
 */
export class TrafficLab {
  net!: LabNetwork;
  database!: Database;
  api!: StartedApi;
  token = '';
  monitoring!: Monitoring;
  dns!: Proc;
  controller: Proc | undefined;
  readonly agents = new Map<string, Proc>();
  /** 127.0.0.1 port serving every edge's metrics at /metrics and one edge's at /edges/<name>/metrics. */
  metricsPort = 0;
  capacity: Record<string, number> = { ...DEFAULT_CAPACITY };
  #cleanups: (() => Promise<unknown>)[] = [];

  static async start(opts: TrafficLabOptions): Promise<TrafficLab> {
    const lab = new TrafficLab();
    try {
      await lab.#start(opts);
    } catch (err) {
      const logs = lab.logs();
      await lab.stop();
      throw new Error(`${(err as Error).message}\n${logs}`);
    }
    return lab;
  }

  async #start(opts: TrafficLabOptions): Promise<void> {
    this.capacity = { ...DEFAULT_CAPACITY, ...(opts.capacityRps as Record<string, number>) };
    const dir = await tempDir('catchment-traffic-');
    const forgetDir = onAbruptEnd(() => rmSync(dir.path, { recursive: true, force: true }));
    this.#cleanups.push(async () => {
      forgetDir();
      await dir.remove();
    });
    const dnsPort = await freePort();
    this.net = await LabNetwork.create({ dir: dir.path, dnsPort, ...(opts.bpf ? { xdpPass: opts.bpf.pass } : {}) });
    this.#cleanups.push(() => this.net.destroy());
    await this.net.startServers();

    await sharedCluster();
    this.database = await freshDatabase('postgres');
    this.#cleanups.push(() => this.database.close());
    await seedWorld(this.database.db, {
      // A lab of four small edges: one of them is a large share of the capacity.
      // No DNS load spreading by default: each steering step is seen alone (opts.settings may turn it on).
      settings: { routeChangesPerPrefixPerHour: 120, maxCapacityShedPercent: 60, watermarks: false, ...opts.settings },
      edit: (c) => {
        labConfig(c, this.capacity);
        opts.edit?.(c);
      },
    });
    await publishSnapshot(this.database.db, { actor: 'traffic-lab' });
    this.token = (await opts.api.createToken(this.database.db, { name: 'traffic-lab', role: 'admin' })).token;
    this.api = await opts.api.startApi({
      database: this.database,
      logger: createLogger('api', { level: 'warn' }),
      pollMs: 20,
      rateLimit: { max: 1_000_000, timeWindowMs: 60_000 },
    });
    this.#cleanups.push(() => this.api.close());

    const proxy = await this.#metricsProxy();
    this.#cleanups.push(() => new Promise((r) => proxy.close(() => r(undefined))));
    this.monitoring = await startMonitoring({
      apiUrl: this.api.url,
      token: this.token,
      exporter: `127.0.0.1:${this.metricsPort}`,
      rule: opts.overloadRule ?? `rate(${SERVED_METRIC}[3s]) / on(edge) catchment_lab_capacity_rps > 0.9`,
    });
    this.#cleanups.push(() => this.monitoring.stop());

    const city = join(dir.path, 'city.mmdb');
    writeFileSync(city, labCityMmdb());
    const common = { CATCHMENT_API_URL: this.api.url, CATCHMENT_API_TOKEN: this.token };
    this.dns = startNode('dns', DNS_MAIN, {
      ...common,
      CATCHMENT_DATA_DIR: join(dir.path, 'dns'),
      CATCHMENT_DNS_ADDRESSES: this.net.dnsAddress,
      CATCHMENT_DNS_PORT: String(dnsPort),
      CATCHMENT_DNS_HTTP_PORT: String(await freePort()),
      CATCHMENT_DNS_WORKERS: '0',
      CATCHMENT_DNS_CONSUMER: 'dns-lab',
      CATCHMENT_GEOIP_CITY: city,
    });
    this.#cleanups.push(() => this.dns.stop());
    for (const e of this.net.edges) {
      const proc = startNode(`edge-${e.name}`, EDGE_MAIN, {
        ...common,
        CATCHMENT_EDGE: e.name,
        CATCHMENT_EDGE_CACHE: join(e.dir, 'snapshot.json'),
        BIRD_SOCKET: e.socket,
        BIRD_CONFIG: e.mainConfig,
        BIRD_INCLUDE: e.includeFile,
        CATCHMENT_EDGE_RECONCILE_CRON: '*/10 * * * * *',
        CATCHMENT_EDGE_HTTP: '127.0.0.1:0',
        CATCHMENT_EDGE_LOAD: `prometheus:http://127.0.0.1:${this.metricsPort}/edges/${e.name}/metrics#${SERVED_METRIC}`,
        CATCHMENT_EDGE_LOAD_INTERVAL_MS: '1000',
        CATCHMENT_EDGE_XDP_FLOW_IDLE: '5',
        ...(opts.bpf
          ? {
              CATCHMENT_EDGE_XDP_IFACE: e.iface,
              CATCHMENT_EDGE_XDP_NETNS: e.ns,
              CATCHMENT_EDGE_XDP_OBJECT: opts.bpf.dsr,
              CATCHMENT_EDGE_XDP_INSTANCE: e.xdpInstance,
            }
          : {}),
      });
      this.#cleanups.push(() => proc.stop());
      this.agents.set(e.name, proc);
    }
    // Every edge's routes at both transits it buys from, and the resolver answering.
    await until(
      'the transits carry every edge unicast /24 and the supernet',
      async () => {
        const a = await this.net.birdShow('transit-a', '');
        const b = await this.net.birdShow('transit-b', '');
        return LAB_EDGES.every((e) => a.includes(e.unicast) && b.includes(e.unicast)) && a.includes('198.18.0.0/20');
      },
      60_000,
      250,
    );
    if (opts.controller !== false) {
      const port = await freePort();
      this.controller = startNode('controller', CONTROLLER_MAIN, {
        DATABASE_URL: this.database.url ?? '',
        CATCHMENT_CONTROLLER_NAME: 'controller-lab',
        CATCHMENT_CONTROLLER_PORT: String(port),
        CATCHMENT_CONTROLLER_TICK: opts.controllerTick ?? '* * * * * *',
        CATCHMENT_PROMETHEUS_URL: this.monitoring.prometheusUrl,
      });
      const c = this.controller;
      this.#cleanups.push(() => c.stop());
      await until(
        'the controller leads',
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
          return ((await res.json()) as { leader?: boolean }).leader === true;
        },
        30_000,
      );
    }
  }

  /** Serves the edges' metrics (each edge server's Unix socket) and each edge's capacity, for Prometheus and the agents. */
  async #metricsProxy(): Promise<Server> {
    const fetchEdge = (name: string) =>
      new Promise<string>((resolve) => {
        const e = this.net.edges.find((x) => x.name === name);
        if (!e) return resolve('');
        const req = request({ socketPath: e.metricsSocket, path: '/metrics', timeout: 1000 }, (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => resolve(body));
          res.on('error', () => resolve(''));
        });
        req.on('error', () => resolve(''));
        req.on('timeout', () => req.destroy());
        req.end();
      });
    const server = createServer((req, res) => {
      const m = /^\/edges\/([a-z0-9-]+)\/metrics$/.exec(req.url ?? '');
      void (async () => {
        if (m) {
          const body = await fetchEdge(m[1]!);
          res.writeHead(body ? 200 : 503, { 'content-type': 'text/plain; version=0.0.4' });
          res.end(body);
        } else if (req.url?.startsWith('/metrics')) {
          const bodies = await Promise.all(this.net.edges.map((e) => fetchEdge(e.name)));
          const seen = new Set<string>();
          // One HELP/TYPE per metric family across the edges.
          const lines = bodies
            .join('\n')
            .split('\n')
            .filter((l) => {
              if (!l.startsWith('#')) return l !== '';
              if (seen.has(l)) return false;
              seen.add(l);
              return true;
            });
          lines.push('# TYPE catchment_lab_capacity_rps gauge');
          for (const e of this.net.edges)
            lines.push(`catchment_lab_capacity_rps{edge="${e.name}"} ${this.capacity[e.name]}`);
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          res.end(`${lines.join('\n')}\n`);
        } else {
          res.writeHead(404);
          res.end();
        }
      })();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address();
    this.metricsPort = typeof addr === 'object' && addr ? addr.port : 0;
    return server;
  }

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.api.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  logs(): string {
    const all = [this.dns, ...this.agents.values(), this.controller].filter((p): p is Proc => p !== undefined);
    return all
      .map((p) => (p.tail().trim() ? `--- ${p.name}\n${p.tail().trim().split('\n').slice(-6).join('\n')}` : ''))
      .filter(Boolean)
      .join('\n');
  }

  async stop(): Promise<void> {
    for (const fn of this.#cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // keep cleaning up
      }
    }
  }
}

export { ANYCAST };
