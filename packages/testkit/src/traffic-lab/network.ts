import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { birdCommand, birdTransitFilter, renderBirdConfig } from '@catchment/routing';
import { Netns, uniquePrefix } from '../netns.ts';
import { onAbruptEnd } from '../procs.ts';
import { until } from '../wait.ts';
import { customerImport, peerFilters, TRANSITS, type TransitSpec } from './policy.ts';
import {
  EDGE_ASN,
  LAB_EDGES,
  type LabEdgeSpec,
  type LabRegion,
  REGIONS,
  RESOLVER,
  RESOLVER6,
  regionBlocks,
  regionBlocks6,
  SUPERNET,
  SUPERNET6,
  transitIndex,
} from './topology.ts';

const EDGE_SERVER = fileURLToPath(new URL('./edge-server.ts', import.meta.url));
const TIMERS = 'connect retry time 1; connect delay time 1; error wait time 1, 2; hold time 6; keepalive time 2;';

export interface NetEdge extends LabEdgeSpec {
  ns: string;
  dir: string;
  socket: string;
  mainConfig: string;
  includeFile: string;
  /** The primary uplink (inside `ns`), where XDP runs. */
  iface: string;
  metricsSocket: string;
  xdpInstance: string;
  xdpPin: string;
}

export interface NetTransit extends TransitSpec {
  ns: string;
  socket: string;
  config: string;
}

export interface NetRegion extends LabRegion {
  ns: string;
  sources: string[];
  /** IPv6 client addresses, one per /48 block. */
  sources6: string[];
}

export interface NetworkOptions {
  dir: string;
  /** The XDP pass program (bpf/xdp_pass.o): loaded on the transit end of every edge link, so the edges' XDP_TX frames are received. */
  xdpPass?: string;
  /** Where Catchment's DNS server listens (in the root namespace, on the resolver link): port. */
  dnsPort: number;
}

/**
 * The lab's network in namespaces: two transits (BIRD 2) peering with each other, client
 * regions behind them, edges buying from one or both (BIRD 2 speakers whose routes the edge
 * agents control; an HTTP server on the edge's addresses), and a recursive resolver (unbound,
 * ECS on) in transit A's network that forwards the service's zone to Catchment's DNS server
 * over one veth pair into the root namespace (the only link there). Removed by `destroy()`,
 * and by the last-resort handler when the process ends abruptly.
 */
export class LabNetwork {
  readonly netns: Netns;
  readonly transits: NetTransit[] = [];
  readonly edges: NetEdge[] = [];
  readonly regions: NetRegion[] = [];
  readonly resolverNs: string;
  /** Catchment's DNS server's address in the root namespace (the resolver link's root end). */
  readonly dnsAddress: string;
  readonly dnsPort: number;
  readonly dir: string;
  readonly #procs = new Set<ChildProcess>();
  readonly #pins: string[] = [];
  #forget: () => void = () => {};
  #rootLink = '';
  #resolver: ChildProcess | undefined;

  constructor(opts: NetworkOptions) {
    this.dir = opts.dir;
    this.dnsPort = opts.dnsPort;
    this.netns = new Netns(uniquePrefix('t'));
    this.resolverNs = `${this.netns.prefix}rs`;
    const x = (process.pid % 250) + 1;
    this.dnsAddress = `100.127.${x}.1`;
  }

  static async create(opts: NetworkOptions): Promise<LabNetwork> {
    const net = new LabNetwork(opts);
    net.#forget = onAbruptEnd(() => net.destroySync());
    try {
      await net.#build(opts);
    } catch (err) {
      await net.destroy();
      throw err;
    }
    return net;
  }

  edge(name: string): NetEdge {
    const e = this.edges.find((x) => x.name === name);
    if (!e) throw new Error(`no lab edge ${name}`);
    return e;
  }

  region(name: string): NetRegion {
    const r = this.regions.find((x) => x.name === name);
    if (!r) throw new Error(`no lab region ${name}`);
    return r;
  }

  transit(name: string): NetTransit {
    const t = this.transits.find((x) => x.name === name);
    if (!t) throw new Error(`no lab transit ${name}`);
    return t;
  }

  async #build(opts: NetworkOptions): Promise<void> {
    const n = this.netns;
    const p = n.prefix;
    for (const spec of TRANSITS) {
      const k = transitIndex(spec.name);
      const ns = n.add(`t${k}`);
      n.sysctl(ns, 'net.ipv4.ip_forward', 1);
      n.sysctl(ns, 'net.ipv6.conf.all.forwarding', 1);
      for (const d of ['all', 'default']) n.sysctl(ns, `net.ipv4.conf.${d}.rp_filter`, 2);
      this.transits.push({ ...spec, ns, socket: join(this.dir, `t${k}.ctl`), config: join(this.dir, `t${k}.conf`) });
    }
    const [ta, tb] = this.transits as [NetTransit, NetTransit];
    // The peering link between the transits.
    n.veth(ta.ns, 'pb', tb.ns, 'pa');
    n.ip(ta.ns, 'addr', 'add', '100.66.0.1/30', 'dev', 'pb');
    n.ip(tb.ns, 'addr', 'add', '100.66.0.2/30', 'dev', 'pa');
    // IPv6 addresses without duplicate address detection: usable at once.
    n.ip(ta.ns, 'addr', 'add', 'fd00:66::1/64', 'dev', 'pb', 'nodad');
    n.ip(tb.ns, 'addr', 'add', 'fd00:66::2/64', 'dev', 'pa', 'nodad');

    // The resolver: in transit A's network, and one link to the root namespace for Catchment's DNS.
    const rs = n.add('rs');
    n.veth(ta.ns, 'rs', rs, 'wan');
    n.ip(ta.ns, 'addr', 'add', '100.99.0.1/30', 'dev', 'rs');
    n.ip(rs, 'addr', 'add', `${RESOLVER}/30`, 'dev', 'wan');
    n.ip(rs, 'route', 'add', 'default', 'via', '100.99.0.1');
    n.ip(ta.ns, 'addr', 'add', 'fd00:99::1/64', 'dev', 'rs', 'nodad');
    n.ip(rs, 'addr', 'add', `${RESOLVER6}/64`, 'dev', 'wan', 'nodad');
    n.ip(rs, '-6', 'route', 'add', 'default', 'via', 'fd00:99::1');
    this.#rootLink = `${p}d`;
    sh(['link', 'add', this.#rootLink, 'type', 'veth', 'peer', 'name', 'dns', 'netns', rs]);
    sh(['addr', 'add', `${this.dnsAddress}/30`, 'dev', this.#rootLink]);
    sh(['link', 'set', this.#rootLink, 'up']);
    n.ip(rs, 'addr', 'add', `${this.dnsAddress.replace(/\.1$/, '.2')}/30`, 'dev', 'dns');
    n.ip(rs, 'link', 'set', 'dns', 'up');

    // Client regions: one namespace each, every block's .2 on its uplink, the transit's .1 opposite.
    for (const [j, r] of REGIONS.entries()) {
      const ns = n.add(`c${r.name}`);
      const t = this.transit(r.transit);
      n.veth(t.ns, `c${j}`, ns, 'wan');
      for (let b = 0; b < r.blocks; b++) {
        n.ip(t.ns, 'addr', 'add', `45.${r.octet}.${b}.1/24`, 'dev', `c${j}`);
        n.ip(ns, 'addr', 'add', `45.${r.octet}.${b}.2/24`, 'dev', 'wan');
      }
      n.ip(ns, 'route', 'add', 'default', 'via', `45.${r.octet}.0.1`);
      // IPv6: a /64 of each /48 block on the link (the transit's direct route to the block).
      for (let b = 0; b < r.blocks6; b++) {
        n.ip(t.ns, 'addr', 'add', `2a0c:${r.octet}:${b}::1/64`, 'dev', `c${j}`, 'nodad');
        n.ip(ns, 'addr', 'add', `2a0c:${r.octet}:${b}::2/64`, 'dev', 'wan', 'nodad');
      }
      n.ip(ns, '-6', 'route', 'add', 'default', 'via', `2a0c:${r.octet}:0::1`);
      this.regions.push({ ...r, ns, sources: regionBlocks(r), sources6: regionBlocks6(r) });
    }

    // Edges.
    const passPin = opts.xdpPass ? `/sys/fs/bpf/${p}pass` : '';
    if (opts.xdpPass) {
      n.run(ta.ns, 'bpftool', ['prog', 'load', opts.xdpPass, passPin, 'type', 'xdp']);
      this.#pins.push(passPin);
    }
    const custBgp: string[][] = [[], []];
    for (const spec of LAB_EDGES) {
      const ns = n.add(`e${spec.name}`);
      const dir = join(this.dir, spec.name);
      mkdirSync(dir, { recursive: true });
      const sessions: string[] = [];
      for (const [u, tname] of spec.uplinks.entries()) {
        const t = this.transit(tname);
        const k = transitIndex(tname);
        const o = 64 + k;
        const tIf = `e${spec.i}`;
        const eIf = `u${u}`;
        n.veth(t.ns, tIf, ns, eIf);
        n.ip(t.ns, 'addr', 'add', `100.${o}.${spec.i}.1/30`, 'dev', tIf);
        n.ip(ns, 'addr', 'add', `100.${o}.${spec.i}.2/30`, 'dev', eIf);
        n.ip(t.ns, 'addr', 'add', `fd00:${o}:${spec.i}::1/64`, 'dev', tIf, 'nodad');
        n.ip(ns, 'addr', 'add', `fd00:${o}:${spec.i}::2/64`, 'dev', eIf, 'nodad');
        // Checksums complete on the wire (a receiving edge drops partial ones inside a tunnel),
        // and neighbours known before the first shed SYN (bpf_fib_lookup does not resolve them).
        n.run(t.ns, 'ethtool', ['-K', tIf, 'tx', 'off']);
        n.run(ns, 'ethtool', ['-K', eIf, 'tx', 'off']);
        n.ip(
          t.ns,
          'neigh',
          'replace',
          `100.${o}.${spec.i}.2`,
          'lladdr',
          n.macOf(ns, eIf),
          'dev',
          tIf,
          'nud',
          'permanent',
        );
        n.ip(
          ns,
          'neigh',
          'replace',
          `100.${o}.${spec.i}.1`,
          'lladdr',
          n.macOf(t.ns, tIf),
          'dev',
          eIf,
          'nud',
          'permanent',
        );
        if (u === 0) {
          // The edge's XDP_TX frames need an XDP program on the receiving veth.
          if (passPin) n.run(t.ns, 'bpftool', ['net', 'attach', 'xdpdrv', 'pinned', passPin, 'dev', tIf]);
          // The reply to a shed flow never passes the shedding edge: MSS that fits the tunnel.
          n.ip(ns, 'route', 'add', 'default', 'via', `100.${o}.${spec.i}.1`, 'advmss', '1440');
          n.ip(ns, '-6', 'route', 'add', 'default', 'via', `fd00:${o}:${spec.i}::1`);
          n.sysctl(ns, `net.ipv4.conf.${eIf}.forwarding`, 1);
          // The DSR address routes to this edge and no other (the transit's infrastructure route).
          custBgp[k]!.push(`  route ${spec.dsr}/32 via 100.${o}.${spec.i}.2;`);
        }
        const session = tname.replace(/-/g, '_');
        sessions.push(
          `protocol bgp ${session}4 {`,
          `  local 100.${o}.${spec.i}.2 as ${EDGE_ASN}; neighbor 100.${o}.${spec.i}.1 as ${t.asn};`,
          '  graceful restart off;',
          `  ${TIMERS}`,
          `  ipv4 { import none; export filter ${birdTransitFilter(tname)}; };`,
          '}',
          // The IPv6 routes on their own session over the link's IPv6 addresses.
          `protocol bgp ${session}6 {`,
          `  local fd00:${o}:${spec.i}::2 as ${EDGE_ASN}; neighbor fd00:${o}:${spec.i}::1 as ${t.asn};`,
          '  graceful restart off;',
          `  ${TIMERS}`,
          `  ipv6 { import none; export filter ${birdTransitFilter(tname)}; };`,
          '}',
        );
      }
      for (const d of ['all', 'default']) n.sysctl(ns, `net.ipv4.conf.${d}.rp_filter`, 0);
      // The edge's addresses: its unicast /24 and (large edges) the whole supernet, on loopback.
      n.ip(ns, 'route', 'add', 'local', spec.unicast, 'dev', 'lo');
      if (spec.big) n.ip(ns, 'route', 'add', 'local', SUPERNET, 'dev', 'lo');
      n.ip(ns, '-6', 'route', 'add', 'local', spec.unicast6, 'dev', 'lo');
      if (spec.big) n.ip(ns, '-6', 'route', 'add', 'local', SUPERNET6, 'dev', 'lo');
      n.ip(ns, 'addr', 'add', `${spec.dsr}/32`, 'dev', 'lo');
      const edge: NetEdge = {
        ...spec,
        ns,
        dir,
        socket: join(dir, 'bird.ctl'),
        mainConfig: join(dir, 'bird.conf'),
        includeFile: join(dir, 'catchment.conf'),
        iface: 'u0',
        metricsSocket: join(dir, 'metrics.sock'),
        xdpInstance: `${p}x${spec.name}`,
        xdpPin: `/sys/fs/bpf/${p}x${spec.name}`,
      };
      this.#pins.push(edge.xdpPin);
      writeFileSync(edge.includeFile, renderBirdConfig([], { transits: TRANSITS.map((t) => t.name) }));
      writeFileSync(
        edge.mainConfig,
        [
          `router id 100.${64 + transitIndex(spec.uplinks[0]!)}.${spec.i}.2;`,
          `log "${join(dir, 'bird.log')}" all;`,
          'protocol device { scan time 1; }',
          `include "${edge.includeFile}";`,
          ...sessions,
          '',
        ].join('\n'),
      );
      this.edges.push(edge);
    }

    // Transit routers: customers (the edges), the peer, the client networks; routes into the kernel.
    for (const t of this.transits) {
      const k = transitIndex(t.name);
      const peer = this.transits[1 - k]!;
      const lines = [
        `router id 100.66.0.${k + 1};`,
        `log "${join(this.dir, `t${k}.log`)}" all;`,
        'protocol device { scan time 1; }',
        'protocol direct { ipv4; ipv6; interface "c*", "rs"; }',
        'protocol kernel kernel4 { ipv4 { export where source = RTS_BGP || source = RTS_STATIC; }; learn off; scan time 2; }',
        'protocol kernel kernel6 { ipv6 { export where source = RTS_BGP || source = RTS_STATIC; }; learn off; scan time 2; }',
        'protocol static infra {',
        '  ipv4;',
        ...custBgp[k]!,
        '}',
        peerFilters(t, peer.asn),
        `protocol bgp peer { local 100.66.0.${k + 1} as ${t.asn}; neighbor 100.66.0.${2 - k} as ${peer.asn}; ${TIMERS} ipv4 { import filter from_peer; export filter to_peer; }; }`,
        `protocol bgp peer6 { local fd00:66::${k + 1} as ${t.asn}; neighbor fd00:66::${2 - k} as ${peer.asn}; ${TIMERS} ipv6 { import filter from_peer; export filter to_peer; }; }`,
      ];
      for (const e of this.edges) {
        const u = e.uplinks.indexOf(t.name);
        if (u < 0) continue;
        const session = `cust_${e.name}`;
        lines.push(
          customerImport(t, session, u > 0, EDGE_ASN),
          `protocol bgp ${session} { local 100.${64 + k}.${e.i}.1 as ${t.asn}; neighbor 100.${64 + k}.${e.i}.2 as ${EDGE_ASN}; ${TIMERS} ipv4 { import filter from_${session}; export none; }; }`,
          customerImport(t, `${session}6`, u > 0, EDGE_ASN, 6),
          `protocol bgp ${session}6 { local fd00:${64 + k}:${e.i}::1 as ${t.asn}; neighbor fd00:${64 + k}:${e.i}::2 as ${EDGE_ASN}; ${TIMERS} ipv6 { import filter from_${session}6; export none; }; }`,
        );
      }
      writeFileSync(t.config, `${lines.join('\n')}\n`);
      this.#bird(t.ns, t.config, t.socket);
    }
    for (const e of this.edges) this.#bird(e.ns, e.mainConfig, e.socket);

    this.#startResolver(1);

    await until(
      'the lab BIRD daemons answer',
      async () => {
        for (const s of [...this.transits.map((t) => t.socket), ...this.edges.map((e) => e.socket)]) {
          if (!(await birdCommand(s, 'show status', 1000).catch(() => undefined))) return false;
        }
        return true;
      },
      15_000,
      100,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}\n${this.logs()}`);
    });
    await until('every lab BGP session is up', () => this.sessionsUp(), 30_000, 200);
  }

  /**
   * unbound, on IPv4 and IPv6: ECS from every client's /24 or /48 to Catchment's DNS server. Answers cached at most
   * `maxTtl` s (1 by default, so a steering change shows in the next connections rather than
   * after the record's TTL; a benchmark of DNS-only shedding restarts it with the real TTL).
   */
  #startResolver(maxTtl: number): void {
    const conf = join(this.dir, 'unbound.conf');
    writeFileSync(
      conf,
      [
        'server:',
        `  interface: ${RESOLVER}`,
        `  interface: ${RESOLVER6}`,
        '  port: 53',
        '  do-daemonize: no',
        '  use-syslog: no',
        `  logfile: "${join(this.dir, 'unbound.log')}"`,
        '  verbosity: 1',
        `  directory: "${this.dir}"`,
        '  chroot: ""',
        '  username: ""',
        `  pidfile: "${join(this.dir, 'unbound.pid')}"`,
        '  access-control: 0.0.0.0/0 allow',
        '  access-control: ::/0 allow',
        // Clients over IPv6; Catchment's DNS server is reached over IPv4 (forward-addr).
        '  do-ip6: yes',
        '  module-config: "subnetcache iterator"',
        `  send-client-subnet: ${this.dnsAddress}`,
        '  client-subnet-always-forward: yes',
        '  max-client-subnet-ipv4: 24',
        '  max-client-subnet-ipv6: 48',
        `  cache-max-ttl: ${maxTtl}`,
        '  cache-max-negative-ttl: 1',
        '  prefetch: no',
        '  qname-minimisation: no',
        '  do-not-query-localhost: no',
        '  num-threads: 1',
        'remote-control:',
        '  control-enable: no',
        'forward-zone:',
        '  name: "example.net."',
        `  forward-addr: ${this.dnsAddress}@${this.dnsPort}`,
        '',
      ].join('\n'),
    );
    this.#resolver = this.#spawn(this.resolverNs, 'unbound', ['-d', '-c', conf]);
  }

  /** Restarts the resolver with an empty cache that keeps answers up to `maxTtl` s. */
  async restartResolver(maxTtl: number): Promise<void> {
    const old = this.#resolver;
    if (old && old.exitCode === null && old.signalCode === null) {
      const exited = new Promise((r) => old.once('exit', r));
      old.kill('SIGTERM');
      await exited;
    }
    this.#startResolver(maxTtl);
    await until(
      'the resolver answers',
      () => {
        try {
          this.netns.run(this.resolverNs, 'dig', ['+short', '+time=1', '+tries=1', `@${RESOLVER}`, 'www.example.net']);
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      100,
    );
  }

  /** Starts each edge's HTTP server (inside its namespace); resolves once all listen. */
  async startServers(): Promise<void> {
    await Promise.all(
      this.edges.map(
        (e) =>
          new Promise<void>((resolve, reject) => {
            const child = this.#spawn(e.ns, process.execPath, [EDGE_SERVER, e.name, e.metricsSocket], 'pipe');
            const timer = setTimeout(() => reject(new Error(`edge server ${e.name} did not start`)), 15_000);
            child.stdout?.on('data', (d: Buffer) => {
              if (d.toString().includes('ready')) {
                clearTimeout(timer);
                resolve();
              }
            });
            child.once('exit', (code) => reject(new Error(`edge server ${e.name} exited ${code}`)));
          }),
      ),
    );
  }

  async sessionsUp(): Promise<boolean> {
    for (const t of this.transits) {
      const lines = await birdCommand(t.socket, 'show protocols');
      const bgp = lines.filter((l) => /\sBGP\s/.test(l.text));
      // One session per family with each customer edge and with the peer.
      const want = 2 * (this.edges.filter((e) => e.uplinks.includes(t.name)).length + 1);
      if (bgp.length !== want || !bgp.every((l) => /Established/.test(l.text))) return false;
    }
    return true;
  }

  /** Runs a command in a lab namespace. */
  run(ns: string, cmd: string, args: string[]): string {
    return this.netns.run(ns, cmd, args);
  }

  /** The transit's BIRD: `show route <args>` as text. */
  async birdShow(transit: string, args: string): Promise<string> {
    return (await birdCommand(this.transit(transit).socket, `show route ${args}`)).map((l) => l.text).join('\n');
  }

  logs(): string {
    return '';
  }

  #bird(ns: string, config: string, socket: string): ChildProcess {
    return this.#spawn(ns, 'bird', ['-f', '-c', config, '-s', socket]);
  }

  #spawn(ns: string, cmd: string, args: string[], stdout: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
    const child = spawn('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], {
      stdio: ['ignore', stdout, 'ignore'],
      env: { ...process.env, NODE_TEST_CONTEXT: '' },
    });
    this.#procs.add(child);
    child.on('exit', () => this.#procs.delete(child));
    return child;
  }

  async destroy(): Promise<void> {
    await Promise.all(
      [...this.#procs].map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        const t = setTimeout(() => c.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      }),
    );
    this.destroySync();
  }

  /** Also the last resort on an abrupt end: processes, namespaces (with their links), pins. */
  destroySync(): void {
    for (const c of this.#procs) c.kill('SIGKILL');
    this.#procs.clear();
    this.netns.cleanup();
    if (this.#rootLink) {
      try {
        sh(['link', 'del', this.#rootLink]);
      } catch {
        // went with the resolver's namespace
      }
    }
    for (const pin of this.#pins.splice(0)) rmSync(pin, { recursive: true, force: true });
    this.#forget();
  }
}

/** `ip` in the root namespace: only for the resolver link's root end. */
function sh(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
