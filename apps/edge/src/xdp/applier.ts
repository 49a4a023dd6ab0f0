import path from 'node:path';
import type { Logger, Snapshot } from '@catchment/core';
import type { Registry } from 'prom-client';
import { wordsToText } from './addr.ts';
import { fromHexList, hexArgs, Tools } from './bpftool.ts';
import { configBytes, type DesiredMaps, desiredMaps } from './desired.ts';
import {
  AddrKey,
  COUNTER_NAMES,
  Config,
  type CounterName,
  Counters,
  decodeStruct,
  encodeStruct,
  MAPS,
  U32,
} from './layout.ts';
import { type AttachMode, BPFFS, type LoadResult, XdpProgram } from './loader.ts';
import { createXdpMetrics, type XdpMetrics } from './metrics.ts';
import { locateDsrObject } from './object.ts';
import { monotonicSeconds, planPeers } from './peers.ts';

/**
 * Applies an edge's DSR part of the snapshot to its XDP program: loads and attaches the
 * program on first use (reusing pinned maps, so flows survive restarts and upgrades),
 * then diffs the maps against the desired state and writes only the differences, in one
 * bpftool batch. Closing leaves the program attached (static stability: a stopped agent
 * must not break redirected flows); remove() detaches and unpins.
 */
export interface XdpDsrOptions {
  /** Interface that receives the traffic (and sends encapsulated packets back out). */
  iface: string;
  /** Network namespace (name under /run/netns) of the interface; default: the current one. */
  netns?: string;
  /** Pin directory name under /sys/fs/bpf (no dots); default `catchment_<iface>`. */
  instance?: string;
  /** A prebuilt object; default: build bpf/ from source. */
  object?: string;
  mode?: 'auto' | AttachMode;
  /** Idle time of a redirected flow (default 300 s): on the shedding side its flow entry
   * expires after it, on the receiving side a peer the snapshot dropped is kept until
   * nothing came from it for this long. Use the same value on every edge. */
  flowIdleSeconds?: number;
  registry?: Registry;
  logger?: Logger;
}

export interface XdpApplyResult {
  loaded: LoadResult | undefined;
  /** `draining`: peers (dsrAddress) no longer in the snapshot whose redirected flows may still arrive. */
  summary: DesiredMaps['summary'] & { draining: string[] };
  warnings: string[];
  writes: number;
  deletes: number;
}

type Entry = { key: string[]; value: string[] };

export class XdpDsrApplier {
  readonly metrics: Registry;
  readonly program: Promise<XdpProgram>;
  private readonly opts: XdpDsrOptions;
  private readonly tools: Tools;
  private readonly m: XdpMetrics;
  private loaded = false;
  /** Peer key (hex) → second it was first seen unlisted (see planPeers). */
  private readonly retiredSince = new Map<string, number>();
  private chain: Promise<unknown> = Promise.resolve();
  private applied: (XdpApplyResult['summary'] & { mode: string | null; version: number }) | null = null;
  private mode: string | null = null;

  constructor(opts: XdpDsrOptions) {
    this.opts = opts;
    this.tools = new Tools(opts.netns === undefined ? {} : { netns: opts.netns });
    // bpffs pin names cannot contain dots (VLAN devices are named like eth0.100).
    const instance = opts.instance ?? `catchment_${opts.iface.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    if (!/^[A-Za-z0-9_-]+$/.test(instance)) throw new Error(`pin name "${instance}": letters, digits, _ and - only`);
    this.program = locateDsrObject(opts.object).then(
      (object) =>
        new XdpProgram({
          tools: this.tools,
          pinDir: path.join(BPFFS, instance),
          iface: opts.iface,
          object,
          ...(opts.logger ? { logger: opts.logger } : {}),
        }),
    );
    this.program.catch(() => undefined);
    this.m = createXdpMetrics(() => this.readCounters(), opts.registry);
    this.metrics = this.m.registry;
  }

  /** Serialised: snapshots apply one after another, in order. */
  apply(snapshot: Snapshot, edgeName: string): Promise<XdpApplyResult> {
    const run = this.chain.then(() => this.applyNow(snapshot, edgeName));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Loads (again) now: what an upgrade to a new object does; maps and flows are kept. */
  async reload(): Promise<LoadResult> {
    const prog = await this.program;
    const res = await prog.load(this.opts.mode ?? 'auto');
    this.loaded = true;
    this.mode = res.mode;
    this.m.attached.reset();
    this.m.attached.set({ mode: res.mode }, 1);
    return res;
  }

  private async applyNow(snapshot: Snapshot, edgeName: string): Promise<XdpApplyResult> {
    try {
      const prog = await this.program;
      const loaded = this.loaded ? undefined : await this.reload();
      const desired = desiredMaps(snapshot.body, edgeName, {
        mtu: await prog.mtu(),
        flowIdleSeconds: this.opts.flowIdleSeconds ?? 300,
      });
      const lines: string[] = [];
      let deletes = 0;
      const dump = async (mapName: string) => {
        const have = await this.tools.json<Entry[]>(['map', 'dump', 'pinned', prog.mapPath(mapName)]);
        return new Map(have.map((e) => [fromHexList(e.key).toString('hex'), fromHexList(e.value)]));
      };
      const update = (pin: string, k: string, v: Buffer) =>
        `map update pinned ${pin} key ${hexArgs(Buffer.from(k, 'hex'))} value ${hexArgs(v)}`;
      const remove = (pin: string, k: string) => `map delete pinned ${pin} key ${hexArgs(Buffer.from(k, 'hex'))}`;
      const sync = async (mapName: string, want: Map<string, string>) => {
        const pin = prog.mapPath(mapName);
        const haveMap = await dump(mapName);
        for (const [k, v] of want) {
          if (haveMap.get(k)?.toString('hex') !== v) lines.push(update(pin, k, Buffer.from(v, 'hex')));
        }
        const stale = [...haveMap.keys()].filter((k) => !want.has(k)).map((k) => remove(pin, k));
        deletes += stale.length;
        return stale;
      };
      // Peers: the program owns the values (last second seen); unlisted peers drain first.
      const peersPin = prog.mapPath(MAPS.peers.name);
      const havePeers = new Map([...(await dump(MAPS.peers.name))].map(([k, v]) => [k, v.readUInt32LE(0)]));
      const now = monotonicSeconds();
      const peerPlan = planPeers(
        havePeers,
        new Set(desired.peers.keys()),
        now,
        this.opts.flowIdleSeconds ?? 300,
        this.retiredSince,
      );
      for (const k of peerPlan.add) lines.push(update(peersPin, k, encodeStruct(U32, { value: now })));
      deletes += peerPlan.remove.length;
      const draining = peerPlan.draining.map((k) =>
        wordsToText(decodeStruct(AddrKey, Buffer.from(k, 'hex')).addr as number[]),
      );
      if (draining.length > 0 && !desired.config.gue_port) {
        // A draining peer may be sending GUE: keep decapsulating on the port in use.
        const zeroKey = hexArgs(encodeStruct(U32, { value: 0 })).split(' ');
        const cur = await this.tools
          .json<{ value: string[] }>(['map', 'lookup', 'pinned', prog.mapPath(MAPS.config.name), 'key', ...zeroKey])
          .then((r) => decodeStruct(Config, fromHexList(r.value)).gue_port as number)
          .catch(() => 0);
        if (cur) desired.config.gue_port = cur;
      }
      // Additions before the config that refers to them; deletions last.
      const stale = [
        ...(await sync(MAPS.vips.name, desired.vips)),
        ...peerPlan.remove.map((k) => remove(peersPin, k)),
        ...(await sync(MAPS.clientPrefixes.name, desired.prefixes)),
      ];
      const zero = hexArgs(encodeStruct(U32, { value: 0 }));
      lines.push(
        `map update pinned ${prog.mapPath(MAPS.config.name)} key ${zero} value ${hexArgs(configBytes(desired.config))}`,
      );
      const writes = lines.length;
      lines.push(...stale);
      await this.tools.batch(lines);
      for (const w of desired.warnings) this.opts.logger?.warn({ edge: edgeName }, w);
      this.m.enabled.set(desired.summary.enabled ? 1 : 0);
      this.m.fraction.set(desired.summary.enabled ? desired.summary.fraction / 65536 : 0);
      this.m.applies.inc({ result: 'ok' });
      const summary = { ...desired.summary, draining };
      this.applied = { ...summary, mode: this.mode, version: snapshot.version };
      this.opts.logger?.info({ version: snapshot.version, ...summary, writes, deletes }, 'xdp dsr applied');
      return { loaded, summary, warnings: desired.warnings, writes, deletes };
    } catch (err) {
      this.m.applies.inc({ result: 'error' });
      throw err;
    }
  }

  /** The DSR state last written to the maps (attach mode, enabled, fraction, targets): the agent reports it. */
  state(): Record<string, unknown> | null {
    return this.applied;
  }

  /** Decision counters summed over CPUs; undefined before the program is loaded. */
  async readCounters(): Promise<Record<CounterName, bigint> | undefined> {
    if (!this.loaded) return undefined;
    const prog = await this.program;
    const zero = hexArgs(encodeStruct(U32, { value: 0 }));
    const res = await this.tools.json<{ values: Array<{ cpu: number; value: string[] }> }>([
      'map',
      'lookup',
      'pinned',
      prog.mapPath(MAPS.counters.name),
      'key',
      ...zero.split(' '),
    ]);
    const sum = Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0n])) as Record<CounterName, bigint>;
    for (const cpu of res.values) {
      const v = decodeStruct(Counters, fromHexList(cpu.value));
      for (const n of COUNTER_NAMES) sum[n] += v[n] as bigint;
    }
    return sum;
  }

  /** Stops using the program; leaves it attached with its maps pinned unless `detach`. */
  async close(opts: { detach?: boolean } = {}): Promise<void> {
    await this.chain;
    if (opts.detach) await this.remove();
  }

  /** Detaches the program and removes its pins (flows are lost). */
  async remove(): Promise<void> {
    const prog = await this.program.catch(() => undefined);
    if (!prog) return;
    await prog.detach();
    await prog.unpin();
    this.loaded = false;
    this.m.attached.reset();
  }
}
