import type { SnapshotBody, SnapshotEdge } from '@catchment/core';
import type { GeoDb } from './geodb.ts';
import {
  type Address,
  ecsScope,
  formatNetwork,
  isMappedText,
  MAPPED_PREFIX_BITS,
  maskBytes,
  type Network,
  parseNetwork,
} from './ip.ts';
import { pinFor } from './pins.ts';
import { addressInRule, type CidrRule, chooseEdge, type TraceStep } from './resolvers.ts';
import { leafEdge, type SteeringTable } from './steering.ts';
import { type LookupResult, lookupBits } from './trie.ts';

export interface ExplainInput {
  /** Service name (`www.example.net`). */
  name: string;
  /** Client subnet as ECS would carry it (`81.2.69.0/24`) or a client address. */
  client?: string;
  /** Address of the resolver that asked; used when there is no client subnet. */
  resolver?: string;
}

export interface Explanation {
  service: string;
  /** What the decision was keyed on. */
  source: 'ecs' | 'resolver';
  client: string;
  /** The block the answer holds for (ECS scope): the widest block with the same answer. */
  block: string;
  scope: number;
  edge: string | null;
  addresses: { v4: string[]; v6: string[] };
  reason: 'pin' | 'rule' | 'nearest' | 'fallback' | 'shift' | 'watermark' | 'public-resolver';
  /** The operator pin that decided the answer, if one did. */
  pin?: { action: number; reason: string; expiresAt: string | null; cidr: string | null; country: string | null };
  trace: TraceStep[];
}

/**
 * "Explain this client": the answer the DNS servers give for `name` to this client, read from
 * the same tables they answer from, with the trace of how the chain of resolvers got there.
 */
export function explainClient(
  body: SnapshotBody,
  table: SteeringTable,
  geo: GeoDb,
  input: ExplainInput,
): Explanation | undefined {
  const svc = body.services.find((s) => s.name === input.name.toLowerCase().replace(/\.$/, ''));
  const classIdx = svc ? table.serviceClass.get(svc.name) : undefined;
  if (!svc || classIdx === undefined) return undefined;
  const cls = table.classes[classIdx]!;
  const trace: TraceStep[] = [];
  const fromEcs = input.client !== undefined;
  const text = input.client ?? input.resolver;
  const net: Network | undefined = text ? parseNetwork(text) : undefined;
  if (!net) throw new Error(`"${text ?? ''}" is not an address or a subnet`);
  // IPv4-mapped IPv6 is looked up as IPv4, and its scope is given back in IPv6 bits, as DNS does.
  const mapped = fromEcs && isMappedText(text!, net.family);
  const scopeOf = (blockLength: number) =>
    ecsScope(blockLength, mapped ? net.length + MAPPED_PREFIX_BITS : net.length, mapped);
  trace.push({
    step: 'ecs',
    detail: fromEcs
      ? `client subnet ${formatNetwork(net)}${mapped ? ' (IPv4-mapped IPv6: looked up as IPv4, scope in IPv6 bits)' : ''}`
      : `no client subnet: resolver ${formatNetwork(net)}`,
  });
  const anycast = { v4: svc.anycast.v4 ? [svc.anycast.v4] : [], v6: svc.anycast.v6 ? [svc.anycast.v6] : [] };
  const addr: Address = { family: net.family, bytes: maskBytes(net.bytes, net.length) };
  const out: LookupResult = { value: 0, length: 0, key: 0 };
  // The pin resolver first, as on the query path: the CIDR pin trie, then country pins.
  let pinLength = 0;
  if (cls.pins.trie) {
    lookupBits(cls.pins.trie, addr.family, addr.bytes, 0, addr.bytes.length, out);
    pinLength = out.length;
    if (out.value > 0) {
      const { pin } = pinFor(cls.pins, addr, undefined);
      const edge = cls.edges[out.value - 1]!;
      const a = svc.addresses.find((x) => x.edge === edge.name);
      trace.push({ step: 'pin', detail: pinText(pin, edge.name) });
      return {
        service: svc.name,
        source: fromEcs ? 'ecs' : 'resolver',
        client: formatNetwork(net),
        block: formatNetwork({ ...addr, length: out.length }),
        scope: scopeOf(out.length),
        edge: edge.name,
        addresses: a ? { v4: a.v4, v6: a.v6 } : anycast,
        reason: 'pin',
        ...(pin ? { pin: pinSummary(pin) } : {}),
        trace,
      };
    }
  }

  if (!fromEcs) {
    lookupBits(table.publicResolvers, addr.family, addr.bytes, 0, addr.bytes.length, out);
    if (out.value === 1) {
      trace.push({
        step: 'fallback',
        detail: 'a public resolver without ECS: its location says nothing of the client',
      });
      return {
        service: svc.name,
        source: 'resolver',
        client: formatNetwork(net),
        block: formatNetwork({ ...addr, length: out.length }),
        scope: 0,
        edge: null,
        addresses: anycast,
        reason: 'public-resolver',
        trace,
      };
    }
  }

  const loc = geo.locate(addr);
  const asn = geo.asn(addr);
  trace.push({
    step: 'geo',
    detail: loc.geo
      ? `${loc.geo.country} ${loc.geo.continent} (${loc.geo.lat}, ${loc.geo.lon}, ${loc.geo.precision}) from ${formatNetwork({ ...addr, length: loc.length })}`
      : `not in the location database (block ${formatNetwork({ ...addr, length: loc.length })})`,
  });
  if (asn.asn !== undefined) trace.push({ step: 'geo', detail: `AS${asn.asn} ${asn.organization ?? ''}`.trim() });
  const pinned = pinFor(cls.pins, addr, loc.geo?.country);
  for (const s of pinned.suspended)
    trace.push({ step: 'pin', detail: `${pinText(s.pin, s.pin.edge)} suspended: ${s.why}` });
  let cidrRule: CidrRule | undefined;
  for (const r of cls.policy.cidrRules) if (addressInRule(r, addr)) cidrRule = r;
  const countryPinned = pinned.pin?.country ? pinned.pin : undefined;
  const choice = countryPinned
    ? { edge: cls.edges.findIndex((e) => e.name === countryPinned.edge), reason: 'pin' as const }
    : chooseEdge(cls.edges, cls.policy, { geo: loc.geo, asn: asn.asn, cidrRule }, trace);
  if (countryPinned) trace.push({ step: 'pin', detail: pinText(countryPinned, countryPinned.edge) });

  lookupBits(cls.trie, addr.family, addr.bytes, 0, addr.bytes.length, out);
  const edgeIdx = leafEdge(out.value);
  const edge = edgeIdx >= 0 ? cls.edges[edgeIdx]! : undefined;
  let reason: Explanation['reason'] = choice.reason;
  // A pinned block is never split by a DNS shift or the watermarks.
  if (!countryPinned && choice.edge >= 0) {
    const from = cls.edges[choice.edge]!;
    const moved = edgeIdx !== choice.edge;
    const to = edge?.name ?? 'anycast';
    const w = from.watermarks;
    if (from.shiftPercent > 0) {
      trace.push({
        step: 'shift',
        detail: moved
          ? `${from.shiftPercent}% DNS shift away from ${from.name}: this block goes to ${to} (targets weighted by headroom)`
          : `${from.shiftPercent}% DNS shift on ${from.name}: this block stays`,
      });
    }
    if (w && w.demandRps !== null) trace.push({ step: 'watermark', detail: watermarkText(from, w, moved, to) });
    if (moved) reason = from.shiftPercent > 0 || !w || w.percent <= 0 ? 'shift' : 'watermark';
  }
  // Not pinned: the block must not reach into a pinned prefix either (the longer of the two).
  const blockLength = Math.max(out.length, pinLength);
  const scope = scopeOf(blockLength);
  const a = edge ? svc.addresses.find((x) => x.edge === edge.name) : undefined;
  return {
    service: svc.name,
    source: fromEcs ? 'ecs' : 'resolver',
    client: formatNetwork(net),
    block: formatNetwork({ ...addr, length: blockLength }),
    scope,
    edge: edge?.name ?? null,
    addresses: a ? { v4: a.v4, v6: a.v6 } : anycast,
    reason,
    ...(countryPinned ? { pin: pinSummary(countryPinned) } : {}),
    trace,
  };
}

type Pin = NonNullable<SnapshotBody['pins']>[number];

/** "lhr at utilisation 0.74 (demand 0.81), watermarks 0.68-0.81: 23% of its client blocks move; this block goes to fra". */
function watermarkText(
  e: SnapshotEdge,
  w: NonNullable<SnapshotEdge['watermarks']>,
  moved: boolean,
  to: string,
): string {
  const f = (x: number) => x.toFixed(2);
  const at = `${e.name} at utilisation ${f(e.utilisation ?? 0)} (demand ${f((w.demandRps ?? 0) / e.capacityRps)}), watermarks ${f(w.low)}-${f(w.high)}`;
  if (w.percent <= 0) {
    const below = (w.demandRps ?? 0) / e.capacityRps <= w.low;
    return `${at}: no block moves${below ? ' (at or below the low watermark)' : ' (under 1 %)'}`;
  }
  const share = `${w.percent}% of its client blocks${e.shiftPercent > 0 ? ' the shift leaves' : ''} move to the next-best edges`;
  return `${at}: ${share}; this block ${moved ? `goes to ${to}` : 'stays'}`;
}

function pinSummary(p: Pin): NonNullable<Explanation['pin']> {
  return { action: p.action, reason: p.reason, expiresAt: p.expiresAt, cidr: p.cidr, country: p.country };
}

/** "pinned by action 12 (customer X), expires 2026-...: 192.0.2.0/24 → fra": explain's line for a pin. */
function pinText(p: Pin | undefined, edge: string): string {
  if (!p) return `pinned to ${edge}`;
  const what = p.cidr ?? `country ${p.country}`;
  const expiry = p.expiresAt ? `expires ${p.expiresAt}` : 'no expiry';
  return `pinned by action ${p.action} (${p.reason}), ${expiry}: ${what} → ${edge}`;
}
