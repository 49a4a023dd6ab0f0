import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger, type PlaybookConfig } from '@catchment/core';
import { type Database, type Db, publishSnapshot, schema } from '@catchment/db';
import { desc } from 'drizzle-orm';
import { type Monitoring, startMonitoring } from '../alerting.ts';
import { BgpLab } from '../bgp-lab.ts';
import { freshDatabase, sharedCluster } from '../databases.ts';
import { freePort } from '../ports.ts';
import { onAbruptEnd, type Proc, startNode } from '../procs.ts';
import { startExporter } from '../prometheus.ts';
import { tempDir } from '../tmp.ts';
import { until } from '../wait.ts';
import { addPlaybook, EDGES, type EdgeName, seedWorld } from '../world.ts';
import { DE_SUBNETS, digAnswers, FRA_ANSWER } from './probes.ts';

const root = (p: string) => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));
const DNS_MAIN = root('apps/dns/src/main.ts');
const EDGE_MAIN = root('apps/edge/src/main.ts');
const CONTROLLER_MAIN = root('apps/controller/src/main.ts');

/**
 * The lab's edges: fra gets overloaded; it and iad announce the supernet (so the community
 * of the communities step shows on fra's supernet announcement once its /24 is withdrawn).
 */
export const LAB_EDGES = ['fra', 'iad'] as const;
export const OVERLOADED = 'fra';

/** Short verify and dwell times so a whole run (forward and back) takes seconds. */
export function e2eSteps(verify = '1s', dwell = '1s'): PlaybookConfig['steps'] {
  return [
    { kind: 'dns-shift', schedule: [25, 50], verify: { within: verify }, dwell },
    { kind: 'withdraw-unicast', verify: { within: verify }, dwell },
    { kind: 'communities', transit: 'transit-a', intents: ['prepend-2x'], verify: { within: verify }, dwell },
    { kind: 'dsr-shed', fraction: 0.25, verify: { within: verify }, dwell },
  ];
}

export interface Controller {
  name: string;
  port: number;
  proc: Proc;
}

/**
 * The parts of Catchment the world runs in this process, handed in by the caller (a test or a
 * benchmark assembles them): testkit does not import apps.
 */
export interface WorldParts {
  /** @catchment/api's startApi and createToken. */
  startApi(opts: {
    database: Database;
    logger: Logger;
    pollMs: number;
    rateLimit: { max: number; timeWindowMs: number };
  }): Promise<{ url: string; close(): Promise<unknown> }>;
  createToken(db: Db, opts: { name: string; role: 'admin' }): Promise<{ token: string }>;
  /** apps/edge's XDP object builder and the reader of a pinned program's DSR config. */
  buildBpf(): Promise<{ dsr: string }>;
  readPinnedDsrConfig(pinDir: string): Promise<{ enabled: number; fraction: number } | undefined>;
}

export interface WorldOptions {
  /** Playbooks to add (name, mode, alert name, steps). */
  playbooks: { name: string; mode: 'auto' | 'approve'; alertname: string; steps: PlaybookConfig['steps'] }[];
  dnsServers?: number;
  controllers?: number;
}

/**
 * Every real part of Catchment on this machine: a throwaway PostgreSQL database with the demo
 * configuration, the API (in this process), DNS servers, edge agents and controller replicas
 * (processes), Prometheus and Alertmanager, and the BGP lab in network namespaces (transit
 * BIRD, edges with BIRD; the overloaded edge's agent runs the XDP DSR applier on its link).
 * `stop()` removes everything, whatever state the world is in.
 */
export class World {
  /** Every edge starts well under the overload rule's threshold, with room to take fra's load. */
  readonly loads: Record<EdgeName, number> = {
    fra: 40_000,
    iad: 20_000,
    sin: 10_000,
    lhr: 10_000,
    gru: 5_000,
    syd: 5_000,
  };
  /** Client subnets (of DE_SUBNETS) that the DNS servers answer with fra in the steady state. */
  probes: string[] = [];
  readonly dns: { port: number; proc: Proc }[] = [];
  readonly agents = new Map<string, Proc>();
  readonly controllers: Controller[] = [];
  database!: Database;
  api!: { url: string; close(): Promise<unknown> };
  parts!: WorldParts;
  token = '';
  lab!: BgpLab;
  monitoring!: Monitoring;
  /** Pin directory of the overloaded edge's XDP program. */
  xdpPin = '';
  #dir!: { path: string; remove(): Promise<void> };
  #cleanups: (() => Promise<unknown>)[] = [];

  static async start(opts: WorldOptions, parts: WorldParts): Promise<World> {
    const w = new World();
    w.parts = parts;
    try {
      await w.#start(opts);
    } catch (err) {
      await w.stop();
      throw err;
    }
    return w;
  }

  /** The DSR config the XDP program on the overloaded edge's link reads now. */
  xdpConfig() {
    return this.parts.readPinnedDsrConfig(this.xdpPin);
  }

  async #start(opts: WorldOptions) {
    const dir = await tempDir('catchment-e2e-');
    this.#dir = dir;
    const forgetDir = onAbruptEnd(() => rmSync(dir.path, { recursive: true, force: true }));
    this.#cleanups.push(async () => {
      forgetDir();
      await dir.remove();
    });
    const bpf = await this.parts.buildBpf();

    await sharedCluster();
    this.database = await freshDatabase('postgres');
    this.#cleanups.push(() => this.database.close());
    const db = this.database.db;
    // A run forward and back changes the /24 twice; several runs fit in the hour's budget.
    // Coverage is judged on what agents observe: of the supernet's announcers only iad runs
    // BIRD and an agent here (sin has none), so one other announcer is the lab's K.
    // No DNS load spreading: the playbook's steps alone move fra's clients here.
    await seedWorld(db, {
      settings: { routeChangesPerPrefixPerHour: 60, coverageMinAnnouncers: 1, watermarks: false },
    });
    for (const pb of opts.playbooks) {
      await addPlaybook(db, {
        name: pb.name,
        mode: pb.mode,
        trigger: { alert: { alertname: pb.alertname } },
        steps: pb.steps,
      });
    }
    // The first version, as `catchment start` publishes it after importing the configuration.
    await publishSnapshot(db, { actor: 'e2e' });
    this.token = (await this.parts.createToken(db, { name: 'e2e', role: 'admin' })).token;
    this.api = await this.parts.startApi({
      database: this.database,
      logger: createLogger('api', { level: 'warn' }),
      pollMs: 20,
      rateLimit: { max: 1_000_000, timeWindowMs: 60_000 },
    });
    this.#cleanups.push(() => this.api.close());

    const exporter = await startExporter(() => this.exporterText());
    this.#cleanups.push(() => exporter.close());
    this.monitoring = await startMonitoring({
      apiUrl: this.api.url,
      token: this.token,
      exporter: `127.0.0.1:${exporter.port}`,
    });
    this.#cleanups.push(() => this.monitoring.stop());

    // The transit is the config's transit-a: its sessions export through catchment_to_transit_a,
    // where the communities step's per-transit values are added.
    this.lab = await BgpLab.create({ edges: [...LAB_EDGES], transits: [{ name: 'transit-a', asn: 64500 }] });
    this.#cleanups.push(() => this.lab.destroy());
    const overloaded = this.lab.edge(OVERLOADED);
    const instance = `catchment_${overloaded.iface}`;
    this.xdpPin = `/sys/fs/bpf/${instance}`;
    const pin = this.xdpPin;
    // Killed test runs too: the namespace goes with the lab, the pins would stay.
    const forget = onAbruptEnd(() => rmSync(pin, { recursive: true, force: true }));
    this.#cleanups.push(async () => {
      forget();
      await rm(pin, { recursive: true, force: true });
    });

    await this.reportLoads();
    // Load reports keep coming, as from real agents (every stage's verification needs one newer than it).
    const reporting = setInterval(() => void this.reportLoads().catch(() => {}), 1000);
    this.#cleanups.push(async () => clearInterval(reporting));
    const common = { CATCHMENT_API_URL: this.api.url, CATCHMENT_API_TOKEN: this.token };
    for (let i = 0; i < (opts.dnsServers ?? 2); i++) {
      const port = await freePort();
      const proc = startNode(`dns-${i}`, DNS_MAIN, {
        ...common,
        CATCHMENT_DATA_DIR: `${this.#dir.path}/dns-${i}`,
        CATCHMENT_DNS_ADDRESSES: '127.0.0.1',
        CATCHMENT_DNS_PORT: String(port),
        CATCHMENT_DNS_HTTP_PORT: String(await freePort()),
        CATCHMENT_DNS_WORKERS: '0',
        CATCHMENT_DNS_CONSUMER: `dns-${i}`,
      });
      this.#cleanups.push(() => proc.stop());
      this.dns.push({ port, proc });
    }
    for (const name of LAB_EDGES) {
      const e = this.lab.edge(name);
      const proc = startNode(`edge-${name}`, EDGE_MAIN, {
        ...common,
        CATCHMENT_EDGE: name,
        CATCHMENT_EDGE_CACHE: `${e.dir}/snapshot.json`,
        BIRD_SOCKET: e.socket,
        BIRD_CONFIG: e.mainConfig,
        BIRD_INCLUDE: e.includeFile,
        CATCHMENT_EDGE_RECONCILE_CRON: '*/10 * * * * *',
        CATCHMENT_EDGE_HTTP: '127.0.0.1:0',
        ...(name === OVERLOADED
          ? {
              CATCHMENT_EDGE_XDP_IFACE: e.iface,
              CATCHMENT_EDGE_XDP_NETNS: e.ns,
              CATCHMENT_EDGE_XDP_OBJECT: bpf.dsr,
              CATCHMENT_EDGE_XDP_INSTANCE: instance,
            }
          : {}),
      });
      this.#cleanups.push(() => proc.stop());
      this.agents.set(name, proc);
    }
    await until(
      'every DNS server answers the probe subnets with fra',
      async () => {
        const all = await Promise.all(this.dns.map((d) => digAnswers(d.port, DE_SUBNETS)));
        const mine = DE_SUBNETS.filter((s) => all.every((a) => a.get(s) === FRA_ANSWER));
        this.probes = mine;
        return mine.length >= 8;
      },
      // Each DNS server builds its tables from the embedded GeoIP database first.
      90_000,
      250,
    ).catch(async (e) => {
      throw new Error(`${(e as Error).message}\n${this.logs()}`);
    });
    for (let i = 0; i < (opts.controllers ?? 2); i++) {
      const c = await this.startController(`controller-${String.fromCharCode(97 + i)}`);
      // The first replica leads; the others stand by.
      if (i === 0)
        await until('the first controller leads', async () => (await this.readyz(c))?.leader === true, 30_000);
    }
  }

  async startController(name: string): Promise<Controller> {
    const port = await freePort();
    const proc = startNode(name, CONTROLLER_MAIN, {
      DATABASE_URL: this.database.url ?? '',
      CATCHMENT_CONTROLLER_NAME: name,
      CATCHMENT_CONTROLLER_PORT: String(port),
      CATCHMENT_CONTROLLER_TICK: '* * * * * *',
      CATCHMENT_PROMETHEUS_URL: this.monitoring.prometheusUrl,
    });
    this.#cleanups.push(() => proc.stop());
    const c = { name, port, proc };
    this.controllers.push(c);
    await until(`${name} ready`, async () => (await this.readyz(c))?.status === 'ready', 30_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${proc.tail()}`);
    });
    return c;
  }

  async readyz(c: Controller): Promise<{ status: string; leader?: boolean } | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${c.port}/readyz`, { signal: AbortSignal.timeout(2000) });
      return (await res.json()) as { status: string; leader?: boolean };
    } catch {
      return undefined;
    }
  }

  async leader(): Promise<Controller | undefined> {
    for (const c of this.controllers) {
      if (c.proc.child.exitCode === null && (await this.readyz(c))?.leader === true) return c;
    }
    return undefined;
  }

  /** What the load exporter serves: every edge's load and capacity. */
  exporterText(): string {
    const lines: string[] = [];
    for (const e of EDGES) {
      lines.push(`catchment_edge_load_rps{edge="${e.name}"} ${this.loads[e.name]}`);
      lines.push(`catchment_edge_capacity_rps{edge="${e.name}"} ${e.capacityRps}`);
    }
    return `${lines.join('\n')}\n`;
  }

  /** The edges' load reports (what the planner models), through the API as the agents would. */
  async reportLoads(): Promise<void> {
    for (const e of EDGES) {
      await this.call('POST', '/v1/reports', {
        consumer: `load-${e.name}`,
        kind: 'edge',
        edge: e.name,
        snapshotVersion: null,
        healthy: true,
        load: { rps: this.loads[e.name] },
      });
    }
  }

  /** Sets the overloaded edge's load (the exporter's metric, which the Prometheus rule watches). */
  async setLoad(edge: EdgeName, rps: number): Promise<void> {
    this.loads[edge] = rps;
    await this.reportLoads();
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

  /** The tails of every process's stderr and the latest runs' steps, for a failing test's message. */
  async report(): Promise<string> {
    const steps = await this.database.db
      .select()
      .from(schema.runSteps)
      .orderBy(desc(schema.runSteps.id))
      .limit(12)
      .catch(() => []);
    const lines = steps
      .reverse()
      .map(
        (s) =>
          `run ${s.runId} step ${s.position}.${s.stage} ${s.kind} ${s.state}${s.refusal ? ` refused: ${JSON.stringify(s.refusal)}` : ''}${verdictOf(s.observed)}`,
      );
    const runs = await this.database.db
      .select({ id: schema.playbookRuns.id, state: schema.playbookRuns.state, machine: schema.playbookRuns.machine })
      .from(schema.playbookRuns)
      .orderBy(desc(schema.playbookRuns.id))
      .limit(3)
      .catch(() => []);
    for (const r of runs.reverse()) {
      const hold = (r.machine as { hold?: { reason: string } } | null)?.hold;
      lines.push(`run ${r.id} ${r.state}${hold ? `, holding: ${hold.reason}` : ''}`);
    }
    const view = await this.lab.transitView().catch((e: Error) => [`transit: ${e.message}`]);
    return [...lines, ...view.map((v) => `transit ${v}`), this.logs()].join('\n');
  }

  logs(): string {
    const all = [...this.dns.map((d) => d.proc), ...this.agents.values(), ...this.controllers.map((c) => c.proc)];
    return all
      .map((p) => (p.tail().trim() ? `--- ${p.name}\n${p.tail().trim().split('\n').slice(-8).join('\n')}` : ''))
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

/** A stage's verification (controller stage-verify.ts), for the report. */
function verdictOf(observed: unknown): string {
  const v = (observed as { verification?: { state: string; reason: string } } | null)?.verification;
  return v ? ` verification ${v.state}: ${v.reason}` : '';
}
