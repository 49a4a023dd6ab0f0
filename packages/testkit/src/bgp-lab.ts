import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SnapshotFollower } from '@catchment/core';
import {
  type BirdRoute,
  BirdSpeaker,
  birdCommand,
  birdTransitFilter,
  formatCommunity,
  parseBirdRoutes,
  renderBirdConfig,
} from '@catchment/routing';
import { until } from './wait.ts';

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
  /** The edge's end of its link to the transit (inside `ns`). */
  iface: string;
  bird?: ChildProcess;
}

export interface LabOptions {
  edges: string[];
  transitAsn?: number;
  /** Several transits by name (the snapshot's transit names), each exporting through its own filter. */
  transits?: { name: string; asn: number }[];
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
  /** Every transit (the first is `transit`), each its own BIRD in its own namespace. */
  readonly transits: {
    name: string;
    asn: number;
    k: number;
    ns: string;
    socket: string;
    config: string;
    bird?: ChildProcess;
  }[] = [];
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
    const eAsn = opts.edgeAsn ?? 65010;
    // Without `transits`: one transit, sessions transit4/transit6 exporting the static
    // protocols. With them: one BIRD per transit, and each edge's sessions to it export
    // through that transit's filter (catchment_to_<transit>, rendered by the speaker).
    const specs = opts.transits ?? [{ name: 'transit', asn: opts.transitAsn ?? 64500 }];
    const perTransit = opts.transits !== undefined;
    for (const [k, spec] of specs.entries()) {
      const t =
        k === 0
          ? this.transit
          : {
              ns: `${this.id}-t${k}`,
              socket: join(this.dir, `transit${k}.ctl`),
              config: join(this.dir, `transit${k}.conf`),
            };
      this.transits.push({ ...spec, ...t, k });
      this.#addNs(t.ns);
    }
    const transitBgp: string[][] = specs.map(() => []);
    const filters = specs.map((t) => birdTransitFilter(t.name));
    for (const [idx, name] of opts.edges.entries()) {
      const i = idx + 1;
      const ns = `${this.id}-e${i}`;
      this.#addNs(ns);
      const dir = join(this.dir, name);
      execFileSync('mkdir', ['-p', dir]);
      const sessions: string[] = [];
      let iface = '';
      for (const [k, tr] of this.transits.entries()) {
        const o = 64 + k;
        const a = k === 0 ? `${this.id}t${i}` : `${this.id}t${i}x${k}`;
        const b = k === 0 ? `${this.id}e${i}` : `${this.id}e${i}x${k}`;
        if (k === 0) iface = b;
        ip('link', 'add', a, 'netns', tr.ns, 'type', 'veth', 'peer', 'name', b, 'netns', ns);
        ip('-n', tr.ns, 'addr', 'add', `100.${o}.${i}.1/30`, 'dev', a);
        ip('-n', ns, 'addr', 'add', `100.${o}.${i}.2/30`, 'dev', b);
        ip('-n', tr.ns, 'addr', 'add', `fd00:${o}:${i}::1/64`, 'dev', a, 'nodad');
        ip('-n', ns, 'addr', 'add', `fd00:${o}:${i}::2/64`, 'dev', b, 'nodad');
        ip('-n', tr.ns, 'link', 'set', a, 'up');
        ip('-n', ns, 'link', 'set', b, 'up');
        const session = perTransit ? tr.name.replace(/-/g, '_') : 'transit';
        const v4 = perTransit ? `filter ${filters[k]}` : 'where proto = "catchment_v4"';
        const v6 = perTransit ? `filter ${filters[k]}` : 'where proto = "catchment_v6"';
        sessions.push(
          `protocol bgp ${session}4 {`,
          `  local 100.${o}.${i}.2 as ${eAsn}; neighbor 100.${o}.${i}.1 as ${tr.asn};`,
          '  graceful restart off;',
          `  ${TIMERS}`,
          `  ipv4 { import none; export ${v4}; };`,
          '}',
          `protocol bgp ${session}6 {`,
          `  local fd00:${o}:${i}::2 as ${eAsn}; neighbor fd00:${o}:${i}::1 as ${tr.asn};`,
          '  graceful restart off;',
          `  ${TIMERS}`,
          `  ipv6 { import none; export ${v6}; };`,
          '}',
        );
        transitBgp[k]!.push(
          `protocol bgp ${name}4 { local 100.${o}.${i}.1 as ${tr.asn}; neighbor 100.${o}.${i}.2 as ${eAsn}; ${TIMERS} ipv4 { import all; export none; }; }`,
          `protocol bgp ${name}6 { local fd00:${o}:${i}::1 as ${tr.asn}; neighbor fd00:${o}:${i}::2 as ${eAsn}; ${TIMERS} ipv6 { import all; export none; }; }`,
        );
      }
      const edge: LabEdge = {
        name,
        ns,
        dir,
        socket: join(dir, 'bird.ctl'),
        mainConfig: join(dir, 'bird.conf'),
        includeFile: join(dir, 'catchment.conf'),
        address: `100.64.${i}.2`,
        transitAddress: `100.64.${i}.1`,
        iface,
      };
      this.edges.push(edge);
      await writeFile(edge.includeFile, renderBirdConfig([], { transits: perTransit ? specs.map((t) => t.name) : [] }));
      await writeFile(
        edge.mainConfig,
        [
          `router id 100.64.${i}.2;`,
          `log "${join(dir, 'bird.log')}" all;`,
          'protocol device { scan time 1; }',
          `include "${edge.includeFile}";`,
          ...sessions,
          '',
        ].join('\n'),
      );
    }
    for (const [k, tr] of this.transits.entries()) {
      await writeFile(
        tr.config,
        [
          `router id 100.${64 + k}.0.1;`,
          `log "${join(this.dir, `transit${k}.log`)}" all;`,
          'protocol device { scan time 1; }',
          ...transitBgp[k]!,
          '',
        ].join('\n'),
      );
      tr.bird = this.#bird(tr.ns, tr.config, tr.socket);
      if (k === 0) this.transit.bird = tr.bird;
    }
    for (const e of this.edges) e.bird = this.#bird(e.ns, e.mainConfig, e.socket);
    await this.waitFor(
      async () => {
        for (const s of [...this.transits.map((t) => t.socket), ...this.edges.map((e) => e.socket)]) {
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

  /**
   * What an edge agent for lab edge `name` needs: its BIRD speaker and a snapshot follower of
   * `source` (an API or a snapshot stand-in) caching in the edge's folder.
   */
  agentParts(name: string, source: { url: string; token: string }, follow = { waitSeconds: 5, retryMs: 100 }) {
    const e = this.edge(name);
    return {
      edge: name,
      speaker: new BirdSpeaker({ socket: e.socket, includeFile: e.includeFile, mainConfig: e.mainConfig }),
      follower: new SnapshotFollower({
        apiUrl: source.url,
        token: source.token,
        cacheFile: join(e.dir, 'snapshot.json'),
        ...follow,
      }),
    };
  }

  /** Every route in the transit's RIB (`show route all`), with the protocol (= edge + family) it came from. */
  async transitRoutes(transit?: string): Promise<BirdRoute[]> {
    const t = transit === undefined ? this.transit : this.transits.find((x) => x.name === transit);
    if (!t) throw new Error(`no lab transit ${transit}`);
    return parseBirdRoutes(await birdCommand(t.socket, 'show route all'));
  }

  /** `prefix communities` per route received from edges, e.g. `fra4 198.18.1.0/24 64500:100`. */
  async transitView(transit?: string): Promise<string[]> {
    return (await this.transitRoutes(transit))
      .map((r) => `${r.protocol} ${r.prefix.text}${r.communities.map((c) => ` ${formatCommunity(c)}`).join('')}`)
      .sort();
  }

  async sessionsUp(): Promise<boolean> {
    for (const t of this.transits) {
      const lines = await birdCommand(t.socket, 'show protocols');
      const bgp = lines.filter((l) => /\sBGP\s/.test(l.text));
      if (bgp.length !== this.edges.length * 2 || !bgp.every((l) => /Established/.test(l.text))) return false;
    }
    return true;
  }

  async waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
    await until(what, cond, timeoutMs, 50);
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
