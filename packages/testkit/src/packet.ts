import ipaddr from 'ipaddr.js';

/** Builds and parses the packets of the XDP tests (Ethernet frames, bytes on the wire). */

export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export function mac(text: string): Buffer {
  return Buffer.from(text.split(':').map((h) => Number.parseInt(h, 16)));
}

export function macText(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function sum16(buf: Buffer, initial = 0): number {
  let s = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) s += buf.readUInt16BE(i);
  if (buf.length % 2) s += buf[buf.length - 1]! << 8;
  return s;
}

export function fold(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + Math.floor(x / 0x10000);
  return ~x & 0xffff;
}

/** An address as it stands in an IP header: 4 bytes for IPv4, 16 for IPv6. */
export function ipAddr(text: string): Buffer {
  return Buffer.from(ipaddr.parse(text).toByteArray());
}

const isV4 = (text: string) => ipaddr.parse(text).kind() === 'ipv4';

function pseudoSum(src: string, dst: string, proto: number, len: number): number {
  const s = ipAddr(src);
  const d = ipAddr(dst);
  return sum16(s) + sum16(d) + proto + len;
}

export function ipv4Header(src: string, dst: string, proto: number, payloadLen: number, tos = 0): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[1] = tos;
  h.writeUInt16BE(20 + payloadLen, 2);
  h.writeUInt16BE(0x4000, 6); // DF
  h[8] = 64;
  h[9] = proto;
  ipAddr(src).copy(h, 12);
  ipAddr(dst).copy(h, 16);
  h.writeUInt16BE(fold(sum16(h)), 10);
  return h;
}

export function ipv6Header(src: string, dst: string, next: number, payloadLen: number): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payloadLen, 4);
  h[6] = next;
  h[7] = 64;
  ipAddr(src).copy(h, 8);
  ipAddr(dst).copy(h, 24);
  return h;
}

export interface TcpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: number;
  payload?: number;
  seq?: number;
}

/** IP packet (L3) carrying one TCP segment with valid checksums. */
export function tcpL3(spec: TcpSpec): Buffer {
  const tcp = Buffer.alloc(20 + (spec.payload ?? 0));
  tcp.writeUInt16BE(spec.sport, 0);
  tcp.writeUInt16BE(spec.dport, 2);
  tcp.writeUInt32BE(spec.seq ?? 1000, 4);
  tcp[12] = 5 << 4;
  tcp[13] = spec.flags;
  tcp.writeUInt16BE(64240, 14);
  for (let i = 20; i < tcp.length; i++) tcp[i] = i & 0xff;
  tcp.writeUInt16BE(fold(sum16(tcp, pseudoSum(spec.src, spec.dst, 6, tcp.length))), 16);
  const v4 = isV4(spec.src);
  const ip = v4 ? ipv4Header(spec.src, spec.dst, 6, tcp.length) : ipv6Header(spec.src, spec.dst, 6, tcp.length);
  return Buffer.concat([ip, tcp]);
}

export function udpL3(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const v4 = isV4(src);
  const ip = v4 ? ipv4Header(src, dst, 17, 8 + payload.length) : ipv6Header(src, dst, 17, 8 + payload.length);
  return Buffer.concat([ip, udp, payload]);
}

/** An outer IP header around an inner L3 packet (IP-in-IP as a peer edge sends it). */
export function ipipL3(src: string, dst: string, inner: Buffer): Buffer {
  const proto = inner[0]! >> 4 === 4 ? 4 : 41;
  const ip = isV4(src) ? ipv4Header(src, dst, proto, inner.length) : ipv6Header(src, dst, proto, inner.length);
  return Buffer.concat([ip, inner]);
}

export function frame(dst: string, src: string, l3: Buffer): Buffer {
  const eth = Buffer.alloc(14);
  mac(dst).copy(eth, 0);
  mac(src).copy(eth, 6);
  eth.writeUInt16BE(l3[0]! >> 4 === 4 ? 0x0800 : 0x86dd, 12);
  return Buffer.concat([eth, l3]);
}

export interface ParsedIp {
  version: 4 | 6;
  headerLen: number;
  totalLen: number;
  proto: number;
  ttl: number;
  tos: number;
  src: string;
  dst: string;
  flowLabel: number;
  /** IPv4 header checksum verifies (always true for IPv6). */
  checksumOk: boolean;
  frag: number;
  payload: Buffer;
}

function addrText(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(i).toString(16));
  return parts
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::')
    .replace(/^:(?=:)/, ':');
}

export function parseIp(l3: Buffer): ParsedIp {
  if (l3[0]! >> 4 === 4) {
    const hl = (l3[0]! & 15) * 4;
    const total = l3.readUInt16BE(2);
    return {
      version: 4,
      headerLen: hl,
      totalLen: total,
      proto: l3[9]!,
      ttl: l3[8]!,
      tos: l3[1]!,
      src: addrText(l3.subarray(12, 16)),
      dst: addrText(l3.subarray(16, 20)),
      flowLabel: 0,
      checksumOk: fold(sum16(l3.subarray(0, hl))) === 0,
      frag: l3.readUInt16BE(6),
      payload: l3.subarray(hl, total),
    };
  }
  const plen = l3.readUInt16BE(4);
  return {
    version: 6,
    headerLen: 40,
    totalLen: 40 + plen,
    proto: l3[6]!,
    ttl: l3[7]!,
    tos: (l3.readUInt32BE(0) >>> 20) & 0xff,
    src: addrText(l3.subarray(8, 24)),
    dst: addrText(l3.subarray(24, 40)),
    flowLabel: l3.readUInt32BE(0) & 0xfffff,
    checksumOk: true,
    frag: 0,
    payload: l3.subarray(40, 40 + plen),
  };
}

export function parseFrame(f: Buffer): { dst: string; src: string; type: number; l3: Buffer } {
  return {
    dst: macText(f.subarray(0, 6)),
    src: macText(f.subarray(6, 12)),
    type: f.readUInt16BE(12),
    l3: f.subarray(14),
  };
}

/** ICMP / ICMPv6 checksum check over a parsed IP packet's payload. */
export function icmpChecksumOk(ip: ParsedIp): boolean {
  if (ip.version === 4) return fold(sum16(ip.payload)) === 0;
  return fold(sum16(ip.payload, pseudoSum(ip.src, ip.dst, 58, ip.payload.length))) === 0;
}
