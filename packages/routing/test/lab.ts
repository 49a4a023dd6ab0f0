import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BirdRoute, birdCommand, parseBirdRoutes } from '../src/index.ts';

/**
 * A BGP lab in network namespaces: one transit router and N edges, each running its
 * own BIRD 2 with its own control socket in a temp dir, peered over veth pairs with
 * private addresses (100.64.i.0/30 and fd00:64:i::/64) that exist only inside the
 * namespaces. Timers are short (lab), graceful restart is off at the edges.
 * `destroy()` kills every daemon and deletes every namespace; so does process exit.
 */
export interface LabEdge {
  name: string;
  ns: string;
  dir: string;
  socket: string;
  mainConfig: string;
  includeFile: string;
  address: string;
  transitAddress: string;
  bird?: ChildProcess;
}

export interface LabOptions {
  edges: string[];
  transitAsn?: number;
  edgeAsn?: number;
}

const live = new Set<BgpLab>();
process.on('exit', () => {
  for (const lab of live) lab.destroySync();
});
// A test file killed by the runner (timeout, Ctrl-C) must not leave namespaces or daemons behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const lab of live) lab.destroySync();
    process.kill(process.pid, signal);
  });
}

function ip(...args: string[]) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

const TIMERS = 'connect retry time 1; connect delay time 1; error wait time 1, 2; hold time 6; keepalive time 2;';

export class BgpLab {
  readonly id: string;
  readonly dir: string;
  readonly transit: { ns: string; socket: string; config: string; bird?: ChildProcess };
  readonly edges: LabEdge[] = [];
  readonly #namespaces: string[] = [];
  readonly #procs = new Set<ChildProcess>();

  private constructor(id: string, dir: string) {
    this.id = id;
    this.dir = dir;
    this.transit = { ns: `${id}-t`, socket: join(dir, 'transit.ctl'), config: join(dir, 'transit.conf') };
  }

  static async create(opts: LabOptions): Promise<BgpLab> {
    const id = `cm${process.pid % 10000}${Math.random().toString(36).slice(2, 5)}`;
    const lab = new BgpLab(id, await mkdtemp(join(tmpdir(), 'catchment-lab-')));
    live.add(lab);
    try {
      await lab.#build(opts);
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  async #build(opts: LabOptions): Promise<void> {
    const tAsn = opts.transitAsn ?? 64500;
    const eAsn = opts.edgeAsn ?? 65010;
    this.#addNs(this.transit.ns);
    const transitBgp: string[] = [];
    for (const [idx, name] of opts.edges.entries()) {
      const i = idx + 1;
      const ns = `${this.id}-e${i}`;
      this.#addNs(ns);
      const a = `${this.id}t${i}`;
      const b = `${this.id}e${i}`;
      ip('link', 'add', a, 'netns', this.transit.ns, 'type', 'veth', 'peer', 'name', b, 'netns', ns);
      ip('-n', this.transit.ns, 'addr', 'add', `100.64.${i}.1/30`, 'dev', a);
      ip('-n', ns, 'addr', 'add', `100.64.${i}.2/30`, 'dev', b);
      ip('-n', this.transit.ns, 'addr', 'add', `fd00:64:${i}::1/64`, 'dev', a, 'nodad');
      ip('-n', ns, 'addr', 'add', `fd00:64:${i}::2/64`, 'dev', b, 'nodad');
      ip('-n', this.transit.ns, 'link', 'set', a, 'up');
      ip('-n', ns, 'link', 'set', b, 'up');
      const dir = join(this.dir, name);
      execFileSync('mkdir', ['-p', dir]);
      const edge: LabEdge = {
        name,
        ns,
        dir,
        socket: join(dir, 'bird.ctl'),
        mainConfig: join(dir, 'bird.conf'),
        includeFile: join(dir, 'catchment.conf'),
        address: `100.64.${i}.2`,
        transitAddress: `100.64.${i}.1`,
      };
      this.edges.push(edge);
      await writeFile(
        edge.includeFile,
        'protocol static catchment_v4 { ipv4; }\nprotocol static catchment_v6 { ipv6; }\n',
      );
      await writeFile(
        edge.mainConfig,
        [
          `router id 100.64.${i}.2;`,
          `log "${join(dir, 'bird.log')}" all;`,
          'protocol device { scan time 1; }',
          `include "${edge.includeFile}";`,
          'protocol bgp transit4 {',
          `  local 100.64.${i}.2 as ${eAsn}; neighbor 100.64.${i}.1 as ${tAsn};`,
          '  graceful restart off;',
          `  ${TIMERS}`,
          '  ipv4 { import none; export where proto = "catchment_v4"; };',
          '}',
          'protocol bgp transit6 {',
          `  local fd00:64:${i}::2 as ${eAsn}; neighbor fd00:64:${i}::1 as ${tAsn};`,
          '  graceful restart off;',
          `  ${TIMERS}`,
          '  ipv6 { import none; export where proto = "catchment_v6"; };',
          '}',
          '',
        ].join('\n'),
      );
      transitBgp.push(
        `protocol bgp ${name}4 { local 100.64.${i}.1 as ${tAsn}; neighbor 100.64.${i}.2 as ${eAsn}; ${TIMERS} ipv4 { import all; export none; }; }`,
        `protocol bgp ${name}6 { local fd00:64:${i}::1 as ${tAsn}; neighbor fd00:64:${i}::2 as ${eAsn}; ${TIMERS} ipv6 { import all; export none; }; }`,
      );
    }
    await writeFile(
      this.transit.config,
      [
        'router id 100.64.0.1;',
        `log "${join(this.dir, 'transit.log')}" all;`,
        'protocol device { scan time 1; }',
        ...transitBgp,
        '',
      ].join('\n'),
    );
    this.transit.bird = this.#bird(this.transit.ns, this.transit.config, this.transit.socket);
    for (const e of this.edges) e.bird = this.#bird(e.ns, e.mainConfig, e.socket);
    await this.waitFor(
      async () => {
        for (const s of [this.transit.socket, ...this.edges.map((e) => e.socket)]) {
          if (!(await birdCommand(s, 'show status', 1000).catch(() => undefined))) return false;
        }
        return true;
      },
      10_000,
      'BIRD daemons up',
    );
  }

  #addNs(ns: string) {
    ip('netns', 'add', ns);
    this.#namespaces.push(ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }

  #bird(ns: string, config: string, socket: string): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', ns, 'bird', '-f', '-c', config, '-s', socket], { stdio: 'ignore' });
    this.#procs.add(p);
    p.on('exit', () => this.#procs.delete(p));
    return p;
  }

  edge(name: string): LabEdge {
    const e = this.edges.find((x) => x.name === name);
    if (!e) throw new Error(`no lab edge ${name}`);
    return e;
  }

  /** Every route in the transit's RIB (`show route all`), with the protocol (= edge + family) it came from. */
  async transitRoutes(): Promise<BirdRoute[]> {
    return parseBirdRoutes(await birdCommand(this.transit.socket, 'show route all'));
  }

  /** `prefix communities` per route received from edges, e.g. `fra4 198.18.1.0/24 64500:100`. */
  async transitView(): Promise<string[]> {
    const { formatCommunity } = await import('../src/index.ts');
    return (await this.transitRoutes())
      .map((r) => `${r.protocol} ${r.prefix.text}${r.communities.map((c) => ` ${formatCommunity(c)}`).join('')}`)
      .sort();
  }

  async sessionsUp(): Promise<boolean> {
    const lines = await birdCommand(this.transit.socket, 'show protocols');
    const bgp = lines.filter((l) => /\sBGP\s/.test(l.text));
    return bgp.length === this.edges.length * 2 && bgp.every((l) => /Established/.test(l.text));
  }

  async waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await cond()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stopEdgeBird(name: string): Promise<void> {
    const e = this.edge(name);
    const p = e.bird;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  }

  /**
   * Replaces the edge's BIRD by gobgpd (same addresses and AS, same sessions to the
   * transit); its API listens on a Unix socket in the edge's temp dir (`gobgpTarget`).
   */
  async startEdgeGobgp(name: string, edgeAsn = 65010, transitAsn = 64500): Promise<void> {
    await this.stopEdgeBird(name);
    const e = this.edge(name);
    const i = this.edges.indexOf(e) + 1;
    const neighbor = (addr: string, family: string) =>
      [
        '[[neighbors]]',
        '  [neighbors.config]',
        `    neighbor-address = "${addr}"`,
        `    peer-as = ${transitAsn}`,
        '  [neighbors.timers.config]',
        '    connect-retry = 1',
        '    hold-time = 6',
        '    keepalive-interval = 2',
        '  [[neighbors.afi-safis]]',
        '    [neighbors.afi-safis.config]',
        `      afi-safi-name = "${family}"`,
      ].join('\n');
    const conf = join(e.dir, 'gobgpd.toml');
    await writeFile(
      conf,
      [
        '[global.config]',
        `  as = ${edgeAsn}`,
        `  router-id = "100.64.${i}.2"`,
        neighbor(`100.64.${i}.1`, 'ipv4-unicast'),
        neighbor(`fd00:64:${i}::1`, 'ipv6-unicast'),
        '',
      ].join('\n'),
    );
    const target = this.gobgpTarget(name);
    const p = spawn('ip', ['netns', 'exec', e.ns, 'gobgpd', '-f', conf, '--api-hosts', target, '-l', 'warn'], {
      stdio: 'ignore',
    });
    this.#procs.add(p);
    p.on('exit', () => this.#procs.delete(p));
    await this.waitFor(
      () => {
        try {
          execFileSync('gobgp', ['--target', target, 'global'], {
            stdio: 'ignore',
          });
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      'gobgpd API',
    );
  }

  gobgpTarget(name: string): string {
    return `unix://${join(this.edge(name).dir, 'gobgp.sock')}`;
  }

  startEdgeBird(name: string): void {
    const e = this.edge(name);
    e.bird = this.#bird(e.ns, e.mainConfig, e.socket);
  }

  async destroy(): Promise<void> {
    await Promise.all(
      [...this.#procs].map(async (p) => {
        if (p.exitCode !== null) return;
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      }),
    );
    for (const ns of this.#namespaces.splice(0)) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    live.delete(this);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Last resort on process exit: no awaiting possible there. */
  destroySync(): void {
    for (const p of this.#procs) p.kill('SIGKILL');
    for (const ns of this.#namespaces.splice(0)) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
