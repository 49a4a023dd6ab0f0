import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@catchment/core';
import type { Tools } from './bpftool.ts';
import { layoutOf, MAPS, type MapDef } from './layout.ts';

/**
 * Loads the DSR program, reusing the maps pinned by an earlier load (agent restart,
 * new program version) so the flow table and counters survive, and attaches it (native
 * XDP, generic as fallback), replacing the previous program atomically.
 *
 * Pins: <pinDir>/prog and <pinDir>/maps/<map name> (bpffs names: no dots).
 */
export type AttachMode = 'native' | 'generic';

export interface LoadResult {
  mode: AttachMode;
  progId: number;
  reused: string[];
  created: string[];
  /** Pinned maps whose layout no longer matched and were recreated. */
  replaced: string[];
}

interface MapInfo {
  id: number;
  type: string;
  name: string;
  bytes_key: number;
  bytes_value: number;
  max_entries: number;
}

export const BPFFS = '/sys/fs/bpf';

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Mounts bpffs at /sys/fs/bpf when it is not mounted (as agents such as Cilium do). */
export async function ensureBpffs(tools: Tools): Promise<void> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  if (mounts.split('\n').some((l) => l.split(' ')[1] === BPFFS && l.split(' ')[2] === 'bpf')) return;
  await tools.exec('mount', ['-t', 'bpf', 'bpf', BPFFS]);
}

export function compatible(def: MapDef, info: MapInfo): boolean {
  return (
    info.type === def.type &&
    info.bytes_key === layoutOf(def.key).size &&
    info.bytes_value === layoutOf(def.value).size &&
    info.max_entries === def.maxEntries
  );
}

export class XdpProgram {
  readonly pinDir: string;
  readonly mapDir: string;
  readonly progPin: string;
  readonly tools: Tools;
  readonly iface: string;
  readonly object: string;
  readonly logger: Logger | undefined;
  mode: AttachMode | undefined;

  constructor(opts: { tools: Tools; pinDir: string; iface: string; object: string; logger?: Logger }) {
    this.tools = opts.tools;
    this.pinDir = opts.pinDir;
    this.mapDir = path.join(opts.pinDir, 'maps');
    this.progPin = path.join(opts.pinDir, 'prog');
    this.iface = opts.iface;
    this.object = opts.object;
    this.logger = opts.logger;
  }

  mapPath(name: string): string {
    return path.join(this.mapDir, name);
  }

  async load(prefer: 'auto' | AttachMode = 'auto'): Promise<LoadResult> {
    await ensureBpffs(this.tools);
    await mkdir(this.mapDir, { recursive: true });
    const reused: string[] = [];
    const replaced: string[] = [];
    const args = ['prog', 'load', this.object, `${this.progPin}_new`, 'type', 'xdp'];
    for (const def of Object.values(MAPS) as MapDef[]) {
      const pin = this.mapPath(def.name);
      if (!(await exists(pin))) continue;
      const info = await this.tools.json<MapInfo>(['map', 'show', 'pinned', pin]);
      if (compatible(def, info)) {
        args.push('map', 'name', def.name, 'pinned', pin);
        reused.push(def.name);
      } else {
        // A new layout cannot read the old entries: start this map afresh.
        this.logger?.warn({ map: def.name, info }, 'pinned map layout changed; recreating it');
        await rm(pin);
        replaced.push(def.name);
      }
    }
    await rm(`${this.progPin}_new`, { force: true });
    await this.tools.bpftool(args);
    try {
      const prog = await this.tools.json<{ id: number; map_ids?: number[] }>([
        'prog',
        'show',
        'pinned',
        `${this.progPin}_new`,
      ]);
      const created: string[] = [];
      for (const id of prog.map_ids ?? []) {
        const info = await this.tools.json<MapInfo>(['map', 'show', 'id', String(id)]);
        if (reused.includes(info.name) || !Object.values(MAPS).some((m) => m.name === info.name)) continue;
        await this.tools.bpftool(['map', 'pin', 'id', String(id), this.mapPath(info.name)]);
        created.push(info.name);
      }
      const mode = await this.attach(`${this.progPin}_new`, prefer);
      await rm(this.progPin, { force: true });
      await rename(`${this.progPin}_new`, this.progPin);
      this.mode = mode;
      return { mode, progId: prog.id, reused, created, replaced };
    } catch (err) {
      await rm(`${this.progPin}_new`, { force: true });
      throw err;
    }
  }

  private async attach(pin: string, prefer: 'auto' | AttachMode): Promise<AttachMode> {
    const tryMode = async (m: AttachMode) =>
      this.tools.bpftool([
        'net',
        'attach',
        m === 'native' ? 'xdpdrv' : 'xdpgeneric',
        'pinned',
        pin,
        'dev',
        this.iface,
        'overwrite',
      ]);
    if (prefer === 'generic') {
      await tryMode('generic');
      return 'generic';
    }
    try {
      await tryMode('native');
      return 'native';
    } catch (err) {
      if (prefer === 'native') throw err;
      this.logger?.warn({ iface: this.iface, err: String(err) }, 'native XDP unavailable; using generic XDP');
      // A device has one XDP mode at a time: clear a native program before a generic one.
      await this.tools.exec('ip', ['link', 'set', 'dev', this.iface, 'xdpdrv', 'off']).catch(() => undefined);
      await tryMode('generic');
      return 'generic';
    }
  }

  /** Largest L3 packet the interface carries. */
  async mtu(): Promise<number> {
    const links = JSON.parse(await this.tools.exec('ip', ['-j', 'link', 'show', 'dev', this.iface])) as Array<{
      mtu: number;
    }>;
    return links[0]?.mtu ?? 1500;
  }

  async detach(): Promise<void> {
    for (const m of ['xdpdrv', 'xdpgeneric']) {
      await this.tools.exec('ip', ['link', 'set', 'dev', this.iface, m, 'off']).catch(() => undefined);
    }
  }

  async unpin(): Promise<void> {
    await rm(this.pinDir, { recursive: true, force: true });
  }
}
