import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Community } from '../community.ts';
import { normaliseCommunities } from '../community.ts';
import type { DesiredAnnouncement } from '../desired.ts';
import { parsePrefix } from '../prefix.ts';
import { diffRoutes, isEmptyDiff } from './diff.ts';
import {
  GobgpGrpc,
  gobgpAddPaths,
  gobgpDeletePaths,
  gobgpListPaths,
  gobgpPeers,
  gobgpProtosAvailable,
} from './gobgp-grpc.ts';
import {
  type ApplyResult,
  type RouteDiff,
  type SessionState,
  type Speaker,
  SpeakerError,
  type SpeakerRoute,
} from './types.ts';

const run = promisify(execFile);

export interface GobgpSpeakerOptions {
  /** gobgpd's API (gobgpd --api-hosts): `unix:///run/gobgpd.sock`, or host:port (default 127.0.0.1:50051). */
  target?: string;
  /**
   * grpc (default when Debian's golang-github-osrg-gobgp-dev API definitions are installed):
   * batched AddPathStream, fast at 1000s of paths. cli: the `gobgp` command with JSON output.
   */
  transport?: 'grpc' | 'cli';
  protoDir?: string;
  /** The gobgp CLI (default `gobgp` on PATH). */
  gobgpBinary?: string;
  /** CLI command prefix, e.g. ['ip', 'netns', 'exec', 'edge1']. */
  exec?: string[];
  confirmTimeoutMs?: number;
}

interface GobgpAttr {
  type: number;
  communities?: number[];
  value?: unknown;
}
interface GobgpPath {
  nlri: { prefix: string };
  attrs?: GobgpAttr[];
  'neighbor-ip'?: string;
  'source-id'?: string;
}

/** Path attributes in gobgp's JSON: 8 = COMMUNITIES (uint32 each), 32 = LARGE_COMMUNITY. */
function communitiesOf(attrs: GobgpAttr[] | undefined): Community[] {
  const out: Community[] = [];
  for (const a of attrs ?? []) {
    if (a.type === 8) {
      for (const n of a.communities ?? []) out.push({ kind: 'standard', asn: n >>> 16, value: n & 0xffff });
    } else if (a.type === 32 && Array.isArray(a.value)) {
      for (const v of a.value as { ASN: number; LocalData1: number; LocalData2: number }[]) {
        out.push({ kind: 'large', global: v.ASN, local1: v.LocalData1, local2: v.LocalData2 });
      }
    }
  }
  return normaliseCommunities(out);
}

/** Locally originated paths have no neighbor (gobgp prints `<nil>` or leaves it out). */
function isLocal(p: GobgpPath): boolean {
  const n = p['neighbor-ip'];
  return n === undefined || n === '' || n === '<nil>' || n === '0.0.0.0' || n === '::';
}

export function parseGobgpRib(json: string, onlyLocal: boolean): SpeakerRoute[] {
  const text = json.trim();
  if (text === '' || text === 'null') return [];
  const rib = JSON.parse(text) as Record<string, GobgpPath[]>;
  const out: SpeakerRoute[] = [];
  for (const [prefix, paths] of Object.entries(rib)) {
    const p = (paths ?? []).find((x) => !onlyLocal || isLocal(x));
    if (p) out.push({ prefix: parsePrefix(prefix), communities: communitiesOf(p.attrs) });
  }
  return out;
}

const FSM: Record<string | number, string> = {
  0: 'Unknown',
  1: 'Idle',
  2: 'Connect',
  3: 'Active',
  4: 'OpenSent',
  5: 'OpenConfirm',
  6: 'Established',
  idle: 'Idle',
  connect: 'Connect',
  active: 'Active',
  opensent: 'OpenSent',
  openconfirm: 'OpenConfirm',
  established: 'Established',
};

export function parseGobgpNeighbors(json: string): SessionState[] {
  const text = json.trim();
  if (text === '' || text === 'null') return [];
  const list = JSON.parse(text) as {
    conf?: { neighbor_address?: string; peer_asn?: number };
    state?: { session_state?: number | string; neighbor_address?: string; peer_asn?: number };
  }[];
  return list.map((n) => {
    const raw = n.state?.session_state ?? 0;
    const state = FSM[typeof raw === 'string' ? raw.toLowerCase() : raw] ?? String(raw);
    const name = n.conf?.neighbor_address ?? n.state?.neighbor_address ?? '?';
    return {
      name,
      established: state === 'Established',
      state,
      info: `AS${n.conf?.peer_asn ?? n.state?.peer_asn ?? '?'}`,
    };
  });
}

/**
 * GoBGP adapter: the locally originated paths of the global RIB are the actual set;
 * apply adds (or replaces: same source, same prefix) and deletes paths to reach the
 * desired set, then reads the RIB back to confirm. Over gRPC (GobgpApi, definitions
 * loaded at run time from Debian's package) or over the `gobgp` CLI's JSON output.
 */
export class GobgpSpeaker implements Speaker {
  readonly kind = 'gobgp';
  readonly transport: 'grpc' | 'cli';
  readonly #o: GobgpSpeakerOptions;
  #api: GobgpGrpc | undefined;

  constructor(opts: GobgpSpeakerOptions = {}) {
    this.#o = opts;
    this.transport = opts.transport ?? (gobgpProtosAvailable(opts.protoDir) ? 'grpc' : 'cli');
  }

  get #target(): string {
    return this.#o.target ?? '127.0.0.1:50051';
  }

  #grpc(): GobgpGrpc {
    this.#api ??= new GobgpGrpc(this.#target, this.#o.protoDir);
    return this.#api;
  }

  async #gobgp(...args: string[]): Promise<string> {
    const t = this.#target;
    const where = t.startsWith('unix:')
      ? ['--target', t]
      : ['-u', t.slice(0, t.lastIndexOf(':')).replace(/^\[|\]$/g, ''), '-p', t.slice(t.lastIndexOf(':') + 1)];
    const [cmd, ...rest] = [...(this.#o.exec ?? []), this.#o.gobgpBinary ?? 'gobgp', ...where, ...args];
    try {
      const { stdout } = await run(cmd ?? 'gobgp', rest, { timeout: 15_000, maxBuffer: 64 * 1024 * 1024 });
      return stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      const text = (err.stderr || err.message).trim();
      const code = /connection refused|Unavailable|deadline|no such file/i.test(text)
        ? 'SPEAKER_UNREACHABLE'
        : 'SPEAKER_COMMAND_FAILED';
      throw new SpeakerError(code, `gobgp ${args.join(' ')}: ${text}`, err.stderr);
    }
  }

  async originated(): Promise<SpeakerRoute[]> {
    if (this.transport === 'grpc') return gobgpListPaths(this.#grpc(), 'GLOBAL');
    const v4 = parseGobgpRib(await this.#gobgp('global', 'rib', '-a', 'ipv4', '-j'), true);
    const v6 = parseGobgpRib(await this.#gobgp('global', 'rib', '-a', 'ipv6', '-j'), true);
    return [...v4, ...v6];
  }

  async exported(peer: string): Promise<SpeakerRoute[]> {
    if (this.transport === 'grpc') return gobgpListPaths(this.#grpc(), 'ADJ_OUT', peer);
    const out: SpeakerRoute[] = [];
    for (const fam of ['ipv4', 'ipv6']) {
      const text = await this.#gobgp('neighbor', peer, 'adj-out', '-a', fam, '-j').catch(() => '');
      out.push(...parseGobgpRib(text, false));
    }
    return out;
  }

  async sessions(): Promise<SessionState[]> {
    if (this.transport === 'grpc') return gobgpPeers(this.#grpc());
    return parseGobgpNeighbors(await this.#gobgp('neighbor', '-j'));
  }

  async plan(desired: DesiredAnnouncement[]): Promise<RouteDiff> {
    return diffRoutes(await this.originated(), desired);
  }

  async #add(list: DesiredAnnouncement[]): Promise<void> {
    if (this.transport === 'grpc') return gobgpAddPaths(this.#grpc(), list);
    for (const d of list) {
      const args = ['global', 'rib', 'add', d.prefix.text];
      const std = d.communities.filter((c) => c.kind === 'standard').map((c) => `${c.asn}:${c.value}`);
      const large = d.communities.flatMap((c) => (c.kind === 'large' ? [`${c.global}:${c.local1}:${c.local2}`] : []));
      if (std.length > 0) args.push('community', std.join(','));
      if (large.length > 0) args.push('large-community', large.join(','));
      await this.#gobgp(...args, '-a', d.prefix.family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  async #remove(list: SpeakerRoute[]): Promise<void> {
    if (this.transport === 'grpc') return gobgpDeletePaths(this.#grpc(), list);
    for (const r of list) {
      await this.#gobgp('global', 'rib', 'del', r.prefix.text, '-a', r.prefix.family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  async apply(desired: DesiredAnnouncement[]): Promise<ApplyResult> {
    const started = performance.now();
    const diff = await this.plan(desired);
    if (isEmptyDiff(diff)) return { changed: false, diff, confirmed: true, durationMs: performance.now() - started };
    await this.#add([...diff.add, ...diff.update]);
    await this.#remove(diff.remove);
    const deadline = Date.now() + (this.#o.confirmTimeoutMs ?? 2000);
    let confirmed = false;
    while (!confirmed) {
      confirmed = isEmptyDiff(await this.plan(desired));
      if (confirmed || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return { changed: true, diff, confirmed, durationMs: performance.now() - started };
  }

  async close(): Promise<void> {
    this.#api?.close();
    this.#api = undefined;
  }
}
