import { dnskeyRdata, dsRdata, type SnapshotZone } from '@catchment/core';
import { TYPE } from '../wire/constants.ts';
import { absoluteName, encodeName } from '../wire/names.ts';
import { encodeRdata, TYPE_CODES } from '../wire/rdata.ts';
import { TYPE_CDNSKEY, TYPE_CDS, TYPE_DNSKEY, TYPE_NSEC, TYPE_RRSIG, typeBitmap } from './records.ts';
import { newSignatureCache, ZoneSigner } from './signer.ts';

/**
 * The static part of a signed zone (SOA, NS, records, DNSKEY, CDS, CDNSKEY) as a signed zone
 * file, the way a zone transfer would carry it, for offline checks such as `ldns-verify-zone`.
 * A transferred zone needs an NSEC chain, so this dump has one, signed for the dump only: the
 * server itself never serves the chain (it answers with compact denial and cannot be walked).
 * Record data is written in the RFC 3597 generic form, which every zone parser reads.
 */
export function dumpSignedZone(zone: SnapshotZone, kek: Buffer, now = Date.now()): string {
  if (!zone.dnssec) throw new Error(`zone ${zone.name} is not signed`);
  const signer = new ZoneSigner(zone.name, zone.dnssec, kek, newSignatureCache(), now);
  const sets = new Map<string, Map<number, { ttl: number; rdatas: Buffer[] }>>();
  const add = (owner: string, type: number, ttl: number, rdata: Buffer) => {
    const byType = sets.get(owner) ?? new Map<number, { ttl: number; rdatas: Buffer[] }>();
    const set = byType.get(type) ?? { ttl, rdatas: [] };
    set.ttl = Math.min(set.ttl, ttl);
    if (!set.rdatas.some((r) => r.equals(rdata))) set.rdatas.push(rdata);
    byType.set(type, set);
    sets.set(owner, byType);
  };
  const soa = Buffer.alloc(20);
  [zone.soa.serial, zone.soa.refresh, zone.soa.retry, zone.soa.expire, zone.soa.minimum].forEach((v, i) => {
    soa.writeUInt32BE(v >>> 0, i * 4);
  });
  add(zone.name, TYPE.SOA, zone.ttl, Buffer.concat([encodeName(zone.soa.mname), encodeName(zone.soa.rname), soa]));
  for (const ns of zone.ns) add(zone.name, TYPE.NS, zone.ttl, encodeName(absoluteName(ns, zone.name)));
  for (const r of zone.records) {
    add(absoluteName(r.name, zone.name), TYPE_CODES[r.type]!, r.ttl, encodeRdata(r.type, r.value, zone.name));
  }
  const keys = zone.dnssec.keys.map((k) => dnskeyRdata(k.flags, k.algorithm, Buffer.from(k.publicKey, 'base64')));
  for (const k of keys) add(zone.name, TYPE_DNSKEY, zone.ttl, k);
  zone.dnssec.keys.forEach((k, i) => {
    if (!k.ds || k.role === 'zsk') return;
    add(zone.name, TYPE_CDS, zone.ttl, dsRdata(zone.name, keys[i]!));
    add(zone.name, TYPE_CDNSKEY, zone.ttl, keys[i]!);
  });

  // Zone cuts: the NS RRset there and the glue below are the child's, so they are neither
  // signed nor part of the NSEC chain (RFC 4035 §2.2, §2.3); the cut itself gets an NSEC.
  const cuts = [...sets.keys()].filter((n) => n !== zone.name && sets.get(n)!.has(TYPE.NS));
  const glue = (n: string) => cuts.some((c) => n.endsWith(`.${c}`));
  const names = [...sets.keys()].filter((n) => !glue(n)).sort(canonicalOrder);
  const negTtl = Math.min(zone.ttl, zone.soa.minimum);
  names.forEach((name, i) => {
    const types = [...sets.get(name)!.keys(), TYPE_RRSIG, TYPE_NSEC];
    const next = encodeName(names[(i + 1) % names.length]!);
    add(name, TYPE_NSEC, negTtl, Buffer.concat([next, typeBitmap(types)]));
  });

  const lines: string[] = [];
  const line = (owner: string, ttl: number, type: number, rdata: Buffer) =>
    lines.push(`${owner}. ${ttl} IN TYPE${type} \\# ${rdata.length} ${rdata.toString('hex') || '00'}`);
  for (const name of [...sets.keys()].sort(canonicalOrder)) {
    const owner = encodeName(name);
    const cut = cuts.includes(name);
    for (const [type, set] of sets.get(name)!) {
      for (const r of set.rdatas) line(name, set.ttl, type, r);
      if (glue(name) || (cut && type !== TYPE_NSEC)) continue;
      const keySet = type === TYPE_DNSKEY || type === TYPE_CDS || type === TYPE_CDNSKEY;
      for (const sig of signer.sign(owner, type, set.ttl, set.rdatas, keySet)) line(name, set.ttl, TYPE_RRSIG, sig);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** RFC 4034 §6.1: compare label by label from the right, lower case, as bytes. */
function canonicalOrder(a: string, b: string): number {
  const la = a.split('.').reverse();
  const lb = b.split('.').reverse();
  for (let i = 0; i < Math.min(la.length, lb.length); i++) {
    const c = Buffer.compare(Buffer.from(la[i]!, 'latin1'), Buffer.from(lb[i]!, 'latin1'));
    if (c !== 0) return c;
  }
  return la.length - lb.length;
}
