import { networkInterfaces } from 'node:os';
import { canonicalIp, cidrContains, isIp, type Logger, parseCidr, type Snapshot } from '@catchment/core';
import type { EdgeMetrics } from './metrics.ts';

/**
 * The service addresses an edge host must accept as its own, from the snapshot, and which of
 * them are not configured on it. Traffic for a service address reaches an edge that does not
 * own it in two ways, and the kernel drops it unless the address is local there:
 *  - an anycast supernet the edge announces covers it: when the owner's unicast prefix is
 *    withdrawn (or for the service's anycast fallback answer), its clients follow the
 *    supernet to any of its announcers;
 *  - another edge sheds flows to this one by direct server return (the edge is one of its DSR
 *    targets): the tunnelled packets keep the service address as destination.
 * The edge's own service addresses and its DSR address (the tunnels' outer destination) are
 * required too.
 */
export interface RequiredAddress {
  address: string;
  /** Why this edge must accept it: `own`, `supernet <cidr>`, `dsr from <edge>`, `dsr address`. */
  reasons: string[];
}

const hostCidr = (a: string) => parseCidr(`${canonicalIp(a)}/${a.includes(':') ? 128 : 32}`);

export function requiredAddresses(snap: Snapshot, edge: string): RequiredAddress[] {
  const body = snap.body;
  const need = new Map<string, Set<string>>();
  const add = (address: string, reason: string) => {
    if (!isIp(address)) return;
    const a = canonicalIp(address);
    if (!need.has(a)) need.set(a, new Set());
    need.get(a)!.add(reason);
  };
  const supernets = body.prefixes
    .filter((p) => p.kind === 'anycast' && p.announcers.includes(edge))
    .map((p) => parseCidr(p.cidr));
  const covering = (a: string) => supernets.find((s) => cidrContains(s, hostCidr(a)));
  for (const s of body.services) {
    for (const a of [s.anycast.v4, s.anycast.v6]) {
      const sup = a ? covering(a) : undefined;
      if (a && sup) add(a, `supernet ${sup.text}`);
    }
    for (const per of s.addresses) {
      for (const a of [...per.v4, ...per.v6]) {
        if (per.edge === edge) add(a, 'own');
        const sup = covering(a);
        if (per.edge !== edge && sup) add(a, `supernet ${sup.text}`);
      }
    }
  }
  for (const d of body.dsr) {
    if (d.edge === edge || !d.targets.some((t) => t.edge === edge)) continue;
    for (const v of d.vips) add(v.address, `dsr from ${d.edge}`);
  }
  const self = body.edges.find((e) => e.name === edge);
  if (self?.dsrAddress && body.dsr.some((d) => d.edge !== edge && d.targets.some((t) => t.edge === edge))) {
    add(self.dsrAddress, 'dsr address');
  }
  return [...need]
    .map(([address, reasons]) => ({ address, reasons: [...reasons].sort() }))
    .sort((a, b) => a.address.localeCompare(b.address));
}

/** An address configured on an interface of this host (os.networkInterfaces()). */
export interface LocalAddress {
  iface: string;
  cidr: string;
}

export function localAddresses(): LocalAddress[] {
  return Object.entries(networkInterfaces()).flatMap(([iface, list]) =>
    (list ?? []).flatMap((a) => (a.cidr ? [{ iface, cidr: a.cidr }] : [])),
  );
}

/**
 * The required addresses this host would not accept. An address is accepted when it is
 * configured on any interface (a dummy interface, lo, ...), or lies inside a prefix configured
 * on the loopback: Linux treats every address of a prefix on `lo` as local (the "AnyIP" way of
 * accepting a whole service block, e.g. `ip addr add 198.18.0.0/20 dev lo`).
 */
export function missingAddresses(required: RequiredAddress[], local: LocalAddress[]): RequiredAddress[] {
  const exact = new Set(local.map((l) => canonicalIp(l.cidr.slice(0, l.cidr.indexOf('/')))));
  const loopbackBlocks = local
    .filter((l) => l.iface === 'lo' || l.iface.startsWith('lo:'))
    .map((l) => {
      const [addr, len] = l.cidr.split('/');
      // The configured address with its prefix length (lo's 127.0.0.1/8 covers 127.0.0.0/8).
      return { ...hostCidr(addr!), length: Number(len) };
    });
  return required.filter((r) => {
    if (exact.has(r.address)) return false;
    const host = hostCidr(r.address);
    return !loopbackBlocks.some((b) => cidrContains(b, host));
  });
}

/**
 * The agent's check of its local service addresses: metrics on every check, a warning when
 * the set of missing addresses changes, a note when it is empty again.
 */
export class AddressWatch {
  /** The last check's missing addresses (null: not checked yet, or checking is off). */
  missing: RequiredAddress[] | null = null;

  readonly #edge: string;
  readonly #metrics: EdgeMetrics;
  readonly #log: Logger;
  readonly #opts: false | { local?: () => LocalAddress[] } | undefined;

  constructor(
    edge: string,
    metrics: EdgeMetrics,
    log: Logger,
    opts: false | { local?: () => LocalAddress[] } | undefined,
  ) {
    this.#edge = edge;
    this.#metrics = metrics;
    this.#log = log;
    this.#opts = opts;
  }

  check(snap: Snapshot | undefined): void {
    if (this.#opts === false || !snap) return;
    let next: RequiredAddress[];
    try {
      next = missingAddresses(requiredAddresses(snap, this.#edge), (this.#opts?.local ?? localAddresses)());
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'cannot check the local service addresses');
      return;
    }
    const key = (l: RequiredAddress[] | null) => l?.map((r) => r.address).join(',') ?? null;
    const changed = key(next) !== key(this.missing);
    this.#metrics.addressesMissing.set(next.length);
    this.#metrics.addressMissing.reset();
    for (const r of next) this.#metrics.addressMissing.set({ address: r.address, reason: r.reasons[0] ?? '' }, 1);
    if (changed && next.length > 0) {
      this.#log.warn(
        { missing: next.map((r) => `${r.address} (${r.reasons.join(', ')})`) },
        'service addresses this edge must accept are not configured on any local interface: their traffic would be dropped here (docs/deploy.md: addresses)',
      );
    } else if (changed && this.missing !== null && this.missing.length > 0) {
      this.#log.info('every service address this edge must accept is configured locally now');
    }
    this.missing = next;
  }
}
