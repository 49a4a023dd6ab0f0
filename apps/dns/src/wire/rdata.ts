import { isIPv4, isIPv6 } from 'node:net';
import { parseAddress } from '@catchment/geo/tables';
import { TYPE } from './constants.ts';
import { absoluteName, encodeName } from './names.ts';

/**
 * Record data from the snapshot's presentation text, encoded once at snapshot load.
 * Names inside record data are written uncompressed (required for SRV, RFC 2782, and simplest).
 */
export function encodeRdata(type: string, value: string, zone: string): Buffer {
  const v = value.trim();
  switch (type) {
    case 'A': {
      if (!isIPv4(v)) throw new Error(`A value "${v}" is not an IPv4 address`);
      return Buffer.from(parseAddress(v)!.bytes);
    }
    case 'AAAA': {
      if (!isIPv6(v)) throw new Error(`AAAA value "${v}" is not an IPv6 address`);
      const a = parseAddress(v)!;
      // parseAddress folds ::ffff:a.b.c.d to IPv4; an AAAA keeps all 16 bytes.
      if (a.family === 4) return Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), a.bytes]);
      return Buffer.from(a.bytes);
    }
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return encodeName(absoluteName(v, zone));
    case 'MX': {
      const m = /^(\d+)\s+(\S+)$/.exec(v);
      if (!m) throw new Error(`MX value "${v}" must be "<preference> <exchange>"`);
      return Buffer.concat([u16(Number(m[1])), encodeName(absoluteName(m[2]!, zone))]);
    }
    case 'SRV': {
      const m = /^(\d+)\s+(\d+)\s+(\d+)\s+(\S+)$/.exec(v);
      if (!m) throw new Error(`SRV value "${v}" must be "<priority> <weight> <port> <target>"`);
      return Buffer.concat([
        u16(Number(m[1])),
        u16(Number(m[2])),
        u16(Number(m[3])),
        encodeName(m[4] === '.' ? '' : absoluteName(m[4]!, zone)),
      ]);
    }
    case 'TXT':
      return encodeTxt(v);
    case 'CAA': {
      const m = /^(\d+)\s+([A-Za-z0-9]+)\s+(.*)$/.exec(v);
      if (!m) throw new Error(`CAA value "${v}" must be "<flags> <tag> <value>"`);
      const tag = Buffer.from(m[2]!, 'latin1');
      const strings = parseStrings(m[3]!);
      const data = Buffer.concat(strings);
      return Buffer.concat([Buffer.from([Number(m[1]) & 0xff, tag.length]), tag, data]);
    }
    default:
      throw new Error(`record type ${type} is not supported`);
  }
}

function u16(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${n} is not a 16-bit number`);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/**
 * Character-strings: quoted strings (with \" and \DDD escapes) or, without quotes, the whole
 * value as one text. Each piece longer than 255 bytes is split into 255-byte strings (RFC 1035
 * §3.3.14 allows several strings per TXT record; this is how SPF/DKIM values are carried).
 */
export function encodeTxt(value: string): Buffer {
  const parts: Buffer[] = [];
  for (const s of parseStrings(value)) {
    if (s.length === 0) parts.push(Buffer.from([0]));
    for (let i = 0; i < s.length; i += 255) {
      const chunk = s.subarray(i, i + 255);
      parts.push(Buffer.from([chunk.length]), chunk);
    }
  }
  if (parts.length === 0) parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function parseStrings(value: string): Buffer[] {
  const v = value.trim();
  if (!v.startsWith('"')) return [Buffer.from(v, 'utf8')];
  const out: Buffer[] = [];
  let i = 0;
  while (i < v.length) {
    while (v[i] === ' ' || v[i] === '\t') i++;
    if (i >= v.length) break;
    if (v[i] !== '"') throw new Error(`unquoted text in "${value}"`);
    i++;
    const bytes: number[] = [];
    let closed = false;
    while (i < v.length) {
      const c = v[i]!;
      if (c === '"') {
        closed = true;
        i++;
        break;
      }
      if (c === '\\' && i + 1 < v.length) {
        const d = /^\d{3}/.exec(v.slice(i + 1));
        if (d) {
          bytes.push(Number(d[0]) & 0xff);
          i += 4;
        } else {
          bytes.push(...Buffer.from(v[i + 1]!, 'utf8'));
          i += 2;
        }
        continue;
      }
      bytes.push(...Buffer.from(c, 'utf8'));
      i++;
    }
    if (!closed) throw new Error(`unterminated string in "${value}"`);
    out.push(Buffer.from(bytes));
  }
  return out;
}

export const TYPE_CODES: Record<string, number> = {
  A: TYPE.A,
  AAAA: TYPE.AAAA,
  CNAME: TYPE.CNAME,
  NS: TYPE.NS,
  PTR: TYPE.PTR,
  MX: TYPE.MX,
  TXT: TYPE.TXT,
  SRV: TYPE.SRV,
  CAA: TYPE.CAA,
};
