import type { SnapshotBody, SnapshotDsr } from '@catchment/core';
import { addrFamily, addrWords, cidrKey, isAddr, isCidr } from './addr.ts';
import {
  AddrKey,
  Config,
  ENCAP,
  encodeStruct,
  IPPROTO_TCP,
  LpmKey,
  MAPS,
  MAX_TARGETS,
  PREFIX_MODE,
  type StructValue,
  U32,
  VipKey,
  VipMeta,
} from './layout.ts';

/**
 * What one edge's XDP maps must hold for a snapshot: a pure function, so it can be
 * previewed (dry run) and diffed against the maps before anything is written.
 *
 * Shedding role: the edge's own `dsr` entry (VIPs, fraction, targets, prefixes).
 * Receiving role: every other edge whose `dsr` targets include this edge is an allowed
 * peer (its `dsrAddress`), whether or not its shedding is enabled now. Once an edge no
 * longer lists us (its shedding undone), the applier keeps it as a draining peer until its
 * redirected flows idle out (peers.ts): that part depends on traffic, not on the snapshot.
 */
export interface DesiredMaps {
  config: StructValue;
  /** Hex of encoded key → hex of encoded value. */
  vips: Map<string, string>;
  peers: Map<string, string>;
  prefixes: Map<string, string>;
  /** Things in the snapshot the program cannot do (reported, never thrown). */
  warnings: string[];
  summary: { enabled: boolean; fraction: number; targets: string[]; vips: number; peers: string[]; encap: string };
}

export interface DesiredOptions {
  /** MTU of the link towards the targets (largest outer L3 packet). */
  mtu: number;
  flowIdleSeconds: number;
}

const hex = (b: Buffer) => b.toString('hex');

export function desiredMaps(body: SnapshotBody, edgeName: string, opts: DesiredOptions): DesiredMaps {
  const warnings: string[] = [];
  const edge = body.edges.find((e) => e.name === edgeName);
  const mine: SnapshotDsr | undefined = body.dsr.find((d) => d.edge === edgeName);
  // A malformed address in the snapshot is reported and skipped; it never stops the apply.
  let source = edge?.dsrAddress ?? null;
  if (source && !isAddr(source)) {
    warnings.push(`dsrAddress "${source}" of ${edgeName} is not an address`);
    source = null;
  }
  const sourceFamily = source ? addrFamily(source) : undefined;

  const idleNs = Math.round(opts.flowIdleSeconds * 1e9);
  const config: StructValue = {
    mtu: Math.min(opts.mtu, 65535),
    flow_idle_ns: BigInt(idleNs),
    // Refresh a flow's last-seen time at most once a second, and 8 times per idle period.
    flow_touch_ns: Math.min(1e9, Math.floor(idleNs / 8)),
  };
  if (source && sourceFamily === 4) config.src_v4 = addrWords(source)[3]!;
  if (source && sourceFamily === 6) config.src_v6 = addrWords(source);

  // Targets: only those the outer header can reach from our source address.
  const targets: StructValue[] = [];
  const targetNames: string[] = [];
  let weight = 0;
  for (const t of mine?.targets ?? []) {
    if (!isAddr(t.address)) {
      warnings.push(`target ${t.edge}: "${t.address}" is not an address`);
      continue;
    }
    const fam = addrFamily(t.address);
    if (!source) {
      warnings.push(`edge ${edgeName} has no dsrAddress: cannot encapsulate to ${t.edge}`);
      continue;
    }
    if (fam !== sourceFamily) {
      warnings.push(`target ${t.edge} (${t.address}) is not in the family of dsrAddress ${source}`);
      continue;
    }
    if (targets.length >= MAX_TARGETS) {
      warnings.push(`more than ${MAX_TARGETS} targets: ${t.edge} ignored`);
      continue;
    }
    weight += t.weight;
    targets.push({ addr: addrWords(t.address), weight_end: weight, family: fam });
    targetNames.push(t.edge);
  }
  config.targets = targets;
  config.target_count = targets.length;

  // Peers that shed to us, and the GUE port they use.
  const peers = new Map<string, string>();
  const peerNames: string[] = [];
  let guePort = mine?.encap === 'gue' ? mine.guePort : 0;
  for (const d of body.dsr) {
    if (d.edge === edgeName || !d.targets.some((t) => t.edge === edgeName)) continue;
    const peer = body.edges.find((e) => e.name === d.edge)?.dsrAddress;
    if (peers.size >= MAPS.peers.maxEntries) {
      warnings.push(`more than ${MAPS.peers.maxEntries} peers: ${d.edge} ignored`);
      continue;
    }
    if (!peer || !isAddr(peer)) {
      warnings.push(`peer ${d.edge} sheds to ${edgeName} but has no usable dsrAddress`);
      continue;
    }
    peers.set(hex(encodeStruct(AddrKey, { addr: addrWords(peer) })), hex(encodeStruct(U32, { value: 1 })));
    peerNames.push(d.edge);
    if (d.encap === 'gue') {
      if (guePort && guePort !== d.guePort) warnings.push(`peer ${d.edge} uses GUE port ${d.guePort}, not ${guePort}`);
      else guePort = d.guePort;
    }
  }
  config.gue_port = guePort;
  config.encap = mine?.encap === 'gue' ? ENCAP.gue : ENCAP.ipip;

  const vips = new Map<string, string>();
  const lastBytes = [0n, 0n, 0n, 0n];
  (mine?.vips ?? []).forEach((v, i) => {
    if (!isAddr(v.address)) {
      warnings.push(`VIP "${v.address}" is not an address`);
      return;
    }
    if (vips.size >= MAPS.vips.maxEntries) {
      warnings.push(`more than ${MAPS.vips.maxEntries} VIPs: ${v.address}:${v.port} ignored`);
      return;
    }
    const words = addrWords(v.address);
    vips.set(
      hex(encodeStruct(VipKey, { addr: words, port: v.port, proto: IPPROTO_TCP })),
      hex(encodeStruct(VipMeta, { vip_id: i })),
    );
    const last = words[3]! & 0xff;
    lastBytes[last >> 6]! |= 1n << BigInt(last & 63);
  });
  config.vip_last_byte = lastBytes;

  const prefixes = new Map<string, string>();
  for (const p of mine?.clientPrefixes ?? []) {
    if (!isCidr(p.cidr)) {
      warnings.push(`client prefix "${p.cidr}" is not a CIDR`);
      continue;
    }
    if (prefixes.size >= MAPS.clientPrefixes.maxEntries) {
      warnings.push(`more than ${MAPS.clientPrefixes.maxEntries} client prefixes: ${p.cidr} ignored`);
      continue;
    }
    prefixes.set(hex(encodeStruct(LpmKey, cidrKey(p.cidr))), hex(encodeStruct(U32, { value: PREFIX_MODE[p.mode] })));
  }
  config.prefix_count = prefixes.size;

  const enabled = Boolean(mine?.enabled && targets.length > 0);
  if (mine?.enabled && targets.length === 0) warnings.push(`shedding enabled for ${edgeName} without usable targets`);
  config.enabled = enabled ? 1 : 0;
  config.fraction = mine ? mine.fraction : 0;
  config.seed = mine ? mine.seed : 0;

  return {
    config,
    vips,
    peers,
    prefixes,
    warnings,
    summary: {
      enabled,
      fraction: mine ? mine.fraction : 0,
      targets: targetNames,
      vips: vips.size,
      peers: peerNames,
      encap: mine?.encap ?? 'ipip',
    },
  };
}

export function configBytes(config: StructValue): Buffer {
  return encodeStruct(Config, config);
}
