import { parseNetwork } from '@catchment/geo';

/**
 * A small MMDB writer for test fixtures, following the published MaxMind DB format 2.0
 * (https://maxmind.github.io/MaxMind-DB/): an IPv6 search tree with 24-bit records (IPv4 at
 * ::/96), a 16-byte separator, the data section, then the metadata after the marker.
 */
type Value =
  | string
  | number
  | boolean
  | Value[]
  | { [k: string]: Value }
  | { double: number }
  | { uint16: number }
  | { uint64: number };

function ctrl(type: number, size: number): Buffer {
  const ext = type > 7;
  const head = (ext ? 0 : type) << 5;
  let first: number[];
  if (size < 29) first = [head | size];
  else if (size < 285) first = [head | 29, size - 29];
  else if (size < 65821) first = [head | 30, (size - 285) >> 8, (size - 285) & 0xff];
  else first = [head | 31, ((size - 65821) >> 16) & 0xff, ((size - 65821) >> 8) & 0xff, (size - 65821) & 0xff];
  if (ext) first.splice(1, 0, type - 7);
  return Buffer.from(first);
}

function uint(type: number, n: number | bigint): Buffer {
  let v = BigInt(n);
  const bytes: number[] = [];
  while (v > 0n) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return Buffer.concat([ctrl(type, bytes.length), Buffer.from(bytes)]);
}

export function encodeValue(v: Value): Buffer {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([ctrl(2, b.length), b]);
  }
  if (typeof v === 'boolean') return ctrl(14, v ? 1 : 0);
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(v);
      return Buffer.concat([ctrl(3, 8), b]);
    }
    return uint(6, v);
  }
  if (Array.isArray(v)) return Buffer.concat([ctrl(11, v.length), ...v.map(encodeValue)]);
  // Explicit widths: libmaxminddb checks the metadata's types (uint16, uint32, uint64).
  if ('uint16' in v && typeof v.uint16 === 'number' && Object.keys(v).length === 1) return uint(5, v.uint16);
  if ('uint64' in v && typeof v.uint64 === 'number' && Object.keys(v).length === 1) return uint(9, v.uint64);
  if ('double' in v && typeof v.double === 'number' && Object.keys(v).length === 1) {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v.double);
    return Buffer.concat([ctrl(3, 8), b]);
  }
  const entries = Object.entries(v as Record<string, Value>);
  return Buffer.concat([ctrl(7, entries.length), ...entries.flatMap(([k, x]) => [encodeValue(k), encodeValue(x)])]);
}

interface TNode {
  l: TNode | number | undefined;
  r: TNode | number | undefined;
}

export function writeMmdb(
  networks: { cidr: string; data: Value }[],
  opts: { databaseType?: string; buildEpoch?: number } = {},
): Buffer {
  const root: TNode = { l: undefined, r: undefined };
  const data: Buffer[] = [];
  const offsets = new Map<string, number>();
  let dataLen = 0;
  for (const n of networks) {
    const net = parseNetwork(n.cidr);
    if (!net) throw new Error(`bad network ${n.cidr}`);
    const key = JSON.stringify(n.data);
    let off = offsets.get(key);
    if (off === undefined) {
      const enc = encodeValue(n.data);
      off = dataLen;
      data.push(enc);
      dataLen += enc.length;
      offsets.set(key, off);
    }
    const bits: number[] = [];
    const bytes = net.family === 4 ? new Uint8Array([...new Array(12).fill(0), ...net.bytes]) : net.bytes;
    const length = net.family === 4 ? net.length + 96 : net.length;
    for (let i = 0; i < length; i++) bits.push(((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1);
    let node = root;
    for (let i = 0; i < bits.length; i++) {
      const side = bits[i] ? 'r' : 'l';
      if (i === bits.length - 1) {
        node[side] = off;
        break;
      }
      let next = node[side];
      if (typeof next !== 'object') {
        // Splitting a shorter network that was already there: both halves keep its data.
        const inherit = next;
        next = { l: inherit, r: inherit };
        node[side] = next;
      }
      node = next;
    }
  }
  const order: TNode[] = [];
  const number = new Map<TNode, number>();
  const visit = (n: TNode) => {
    number.set(n, order.length);
    order.push(n);
    for (const c of [n.l, n.r]) if (typeof c === 'object') visit(c);
  };
  visit(root);
  const count = order.length;
  const tree = Buffer.alloc(count * 6);
  const rec = (c: TNode | number | undefined) =>
    c === undefined ? count : typeof c === 'number' ? count + 16 + c : number.get(c)!;
  order.forEach((n, i) => {
    tree.writeUIntBE(rec(n.l), i * 6, 3);
    tree.writeUIntBE(rec(n.r), i * 6 + 3, 3);
  });
  const meta = encodeValue({
    node_count: count,
    record_size: { uint16: 24 },
    ip_version: { uint16: 6 },
    database_type: opts.databaseType ?? 'Catchment-Test',
    languages: ['en'],
    binary_format_major_version: { uint16: 2 },
    binary_format_minor_version: { uint16: 0 },
    build_epoch: { uint64: opts.buildEpoch ?? 1_700_000_000 },
    description: { en: 'Catchment test fixture' },
  });
  return Buffer.concat([
    tree,
    Buffer.alloc(16),
    ...data,
    Buffer.from([0xab, 0xcd, 0xef]),
    Buffer.from('MaxMind.com'),
    meta,
  ]);
}

/** A GeoIP2 City record with the fields Catchment reads. */
export function cityRecord(country: string, continent: string, lat: number, lon: number): Value {
  return {
    continent: { code: continent },
    country: { iso_code: country },
    location: { latitude: { double: lat }, longitude: { double: lon } },
  };
}
