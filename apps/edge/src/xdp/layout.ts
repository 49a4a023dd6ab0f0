/**
 * The one TypeScript definition of every map key and value of bpf/include/structs.h.
 * Offsets follow C's natural alignment; layout.test.ts checks each struct against the
 * object's BTF (names, offsets, sizes, byte order), so the two cannot drift apart.
 */

/** Scalar kinds; `be*` are network byte order (`__be16`, `__be32` in C). */
export type Scalar = 'u8' | 'u16' | 'u32' | 'u64' | 'be16' | 'be32';

export interface StructDef {
  name: string;
  fields: FieldDef[];
}

export interface FieldDef {
  name: string;
  type: Scalar | StructDef;
  /** Array length (absent: a single element). */
  count?: number;
}

const scalarSize: Record<Scalar, number> = { u8: 1, u16: 2, u32: 4, u64: 8, be16: 2, be32: 4 };

export interface FieldLayout {
  def: FieldDef;
  offset: number;
  elementSize: number;
  count: number;
}

export interface StructLayout {
  def: StructDef;
  size: number;
  align: number;
  fields: FieldLayout[];
}

const cache = new Map<StructDef, StructLayout>();

export function layoutOf(def: StructDef): StructLayout {
  const known = cache.get(def);
  if (known) return known;
  let offset = 0;
  let align = 1;
  const fields: FieldLayout[] = [];
  for (const f of def.fields) {
    const inner = typeof f.type === 'string' ? undefined : layoutOf(f.type);
    const elementSize = inner ? inner.size : scalarSize[f.type as Scalar];
    const a = inner ? inner.align : elementSize;
    offset = Math.ceil(offset / a) * a;
    fields.push({ def: f, offset, elementSize, count: f.count ?? 1 });
    offset += elementSize * (f.count ?? 1);
    align = Math.max(align, a);
  }
  const layout = { def, size: Math.ceil(offset / align) * align, align, fields };
  cache.set(def, layout);
  return layout;
}

/** Values: numbers, bigint for u64, arrays for `count`, objects for nested structs; missing = 0. */
export type StructValue = { [field: string]: number | bigint | number[] | bigint[] | StructValue | StructValue[] };

function writeScalar(buf: Buffer, at: number, type: Scalar, v: number | bigint): void {
  switch (type) {
    case 'u8':
      buf.writeUInt8(Number(v), at);
      break;
    case 'u16':
      buf.writeUInt16LE(Number(v), at);
      break;
    case 'be16':
      buf.writeUInt16BE(Number(v), at);
      break;
    case 'u32':
      buf.writeUInt32LE(Number(v) >>> 0, at);
      break;
    case 'be32':
      buf.writeUInt32BE(Number(v) >>> 0, at);
      break;
    case 'u64':
      buf.writeBigUInt64LE(BigInt(v), at);
      break;
  }
}

function readScalar(buf: Buffer, at: number, type: Scalar): number | bigint {
  switch (type) {
    case 'u8':
      return buf.readUInt8(at);
    case 'u16':
      return buf.readUInt16LE(at);
    case 'be16':
      return buf.readUInt16BE(at);
    case 'u32':
      return buf.readUInt32LE(at);
    case 'be32':
      return buf.readUInt32BE(at);
    case 'u64':
      return buf.readBigUInt64LE(at);
  }
}

export function encodeStruct(def: StructDef, value: StructValue, buf = Buffer.alloc(layoutOf(def).size), base = 0) {
  for (const f of layoutOf(def).fields) {
    const v = value[f.def.name];
    if (v === undefined) continue;
    const items = f.count > 1 || Array.isArray(v) ? (v as Array<number | bigint | StructValue>) : [v];
    if (items.length > f.count) throw new RangeError(`${def.name}.${f.def.name}: ${items.length} > ${f.count} items`);
    items.forEach((item, i) => {
      const at = base + f.offset + i * f.elementSize;
      if (typeof f.def.type === 'string') writeScalar(buf, at, f.def.type, item as number | bigint);
      else encodeStruct(f.def.type, item as StructValue, buf, at);
    });
  }
  return buf;
}

export function decodeStruct(def: StructDef, buf: Buffer, base = 0): StructValue {
  const out: StructValue = {};
  for (const f of layoutOf(def).fields) {
    const items: Array<number | bigint | StructValue> = [];
    for (let i = 0; i < f.count; i++) {
      const at = base + f.offset + i * f.elementSize;
      items.push(typeof f.def.type === 'string' ? readScalar(buf, at, f.def.type) : decodeStruct(f.def.type, buf, at));
    }
    out[f.def.name] = (f.def.count === undefined ? items[0] : items) as StructValue[string];
  }
  return out;
}

/* ---- the structs of bpf/include/structs.h ---- */

const addr = { name: 'addr', type: 'be32', count: 4 } as const;

export const AddrKey: StructDef = { name: 'addr_key', fields: [addr] };

export const VipKey: StructDef = {
  name: 'vip_key',
  fields: [addr, { name: 'port', type: 'be16' }, { name: 'proto', type: 'u8' }, { name: 'pad', type: 'u8' }],
};

export const VipMeta: StructDef = {
  name: 'vip_meta',
  fields: [
    { name: 'vip_id', type: 'u32' },
    { name: 'flags', type: 'u32' },
  ],
};

export const FlowKey: StructDef = {
  name: 'flow_key',
  fields: [
    { name: 'src', type: 'be32', count: 4 },
    { name: 'dst', type: 'be32', count: 4 },
    { name: 'sport', type: 'be16' },
    { name: 'dport', type: 'be16' },
    { name: 'proto', type: 'u8' },
    { name: 'pad', type: 'u8', count: 3 },
  ],
};

export const FlowState: StructDef = {
  name: 'flow_state',
  fields: [
    { name: 'target', type: 'be32', count: 4 },
    { name: 'last_seen_ns', type: 'u64' },
    { name: 'gue_sport', type: 'be16' },
    { name: 'slot', type: 'u8' },
    { name: 'family', type: 'u8' },
    { name: 'pad', type: 'u32' },
  ],
};

export const MAX_TARGETS = 16;

export const Target: StructDef = {
  name: 'target',
  fields: [addr, { name: 'weight_end', type: 'u32' }, { name: 'family', type: 'u32' }],
};

export const Config: StructDef = {
  name: 'config',
  fields: [
    { name: 'enabled', type: 'u32' },
    { name: 'fraction', type: 'u32' },
    { name: 'seed', type: 'u32' },
    { name: 'encap', type: 'u32' },
    { name: 'gue_port', type: 'be16' },
    { name: 'mtu', type: 'u16' },
    { name: 'target_count', type: 'u32' },
    { name: 'prefix_count', type: 'u32' },
    { name: 'flow_touch_ns', type: 'u32' },
    { name: 'flow_idle_ns', type: 'u64' },
    { name: 'src_v4', type: 'be32' },
    { name: 'src_v6', type: 'be32', count: 4 },
    { name: 'pad2', type: 'u32' },
    { name: 'vip_last_byte', type: 'u64', count: 4 },
    { name: 'targets', type: Target, count: MAX_TARGETS },
  ],
};

export const LpmKey: StructDef = {
  name: 'lpm_key',
  fields: [{ name: 'prefixlen', type: 'u32' }, addr],
};

export const Nexthop: StructDef = {
  name: 'nexthop',
  fields: [
    addr,
    { name: 'expires_ns', type: 'u64' },
    { name: 'ifindex', type: 'u32' },
    { name: 'dmac', type: 'u8', count: 6 },
    { name: 'smac', type: 'u8', count: 6 },
  ],
};

/** Decision counters, in the order of struct counters. */
export const COUNTER_NAMES = [
  'pass_non_ip',
  'pass_non_tcp',
  'pass_fragment',
  'pass_non_vip',
  'pass_vip_local',
  'syn_local',
  'syn_local_disabled',
  'syn_shed',
  'syn_prefix_always',
  'syn_prefix_never',
  'syn_no_target',
  'flow_forwarded',
  'flow_expired',
  'flow_closed',
  'flow_reused',
  'encap_ipip',
  'encap_gue',
  'oversize',
  'oversize_icmp',
  'nexthop_lookup',
  'nexthop_uncached',
  'fib_fail',
  'adjust_fail',
  'decap_ipip',
  'decap_gue',
  'decap_foreign',
  'malformed',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];

export const Counters: StructDef = {
  name: 'counters',
  fields: COUNTER_NAMES.map((name) => ({ name, type: 'u64' as const })),
};

/** A u32 key or value (array indexes, LPM and peer values). */
export const U32: StructDef = { name: 'u32', fields: [{ name: 'value', type: 'u32' }] };

export const ENCAP = { ipip: 0, gue: 1 } as const;
export const PREFIX_MODE = { always: 1, never: 2 } as const;
export const IPPROTO_TCP = 6;

/** The maps of the program: pin name (= map name), BPF map type, key and value layouts. */
export interface MapDef {
  name: string;
  type: string;
  key: StructDef;
  value: StructDef;
  maxEntries: number;
  /** Holds state that must survive reloads (flows); the others are rewritten by apply(). */
  state: boolean;
}

export const MAPS = {
  config: { name: 'config', type: 'array', key: U32, value: Config, maxEntries: 1, state: false },
  counters: { name: 'counters', type: 'percpu_array', key: U32, value: Counters, maxEntries: 1, state: true },
  vips: { name: 'vips', type: 'hash', key: VipKey, value: VipMeta, maxEntries: 1024, state: false },
  flows: { name: 'flows', type: 'lru_hash', key: FlowKey, value: FlowState, maxEntries: 65536, state: true },
  clientPrefixes: {
    name: 'client_prefixes',
    type: 'lpm_trie',
    key: LpmKey,
    value: U32,
    maxEntries: 4096,
    state: false,
  },
  // Value: the last second (CLOCK_MONOTONIC) a packet came from the peer, written by the program.
  peers: { name: 'peers', type: 'hash', key: AddrKey, value: U32, maxEntries: 64, state: true },
  nexthops: { name: 'nexthops', type: 'array', key: U32, value: Nexthop, maxEntries: MAX_TARGETS, state: false },
} as const satisfies Record<string, MapDef>;

export const STRUCTS: StructDef[] = [
  AddrKey,
  VipKey,
  VipMeta,
  FlowKey,
  FlowState,
  Target,
  Config,
  LpmKey,
  Nexthop,
  Counters,
];
