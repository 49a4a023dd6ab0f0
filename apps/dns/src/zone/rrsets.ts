import type { SnapshotZone } from '@catchment/core';
import { absoluteName } from '../wire/names.ts';
import { TYPE_CODES } from '../wire/rdata.ts';
import { answerChunk, EMPTY, ownedChunk, suffixChunk } from './chunks.ts';
import type { NameEntries } from './names.ts';
import type { RawRecord } from './records.ts';
import type { Chunk, NameEntry, Section } from './types.ts';

/** A CNAME record of an entry, kept for following chains once every name is known. */
export interface CnameRecord {
  owner: string;
  value: string;
  ttl: number;
  rdata: Buffer;
}

export interface RecordSets {
  /** CNAME records by entry index. */
  cnames: Map<number, CnameRecord>;
  /** Names below a zone's apex that own NS records (delegations). */
  cuts: Set<string>;
}

/**
 * The static RRsets of every owner name: answer sections with glue (NS, MX, SRV targets in our
 * zones), the CNAME apart, and a referral at each zone cut.
 */
export function compileRecordSets(
  records: Map<string, RawRecord[]>,
  zones: SnapshotZone[],
  zoneOf: (name: string) => number,
  names: NameEntries,
  problems: string[],
): RecordSets {
  const cuts = new Set<string>();
  for (const [name, list] of records) {
    const z = zoneOf(name);
    if (z < 0) continue;
    if (name !== zones[z]!.name && list.some((r) => r.type === 'NS')) cuts.add(name);
  }
  const glueFor = glue(records, zoneOf);
  const cnames = new Map<number, CnameRecord>();
  for (const [name, list] of records) {
    const z = zoneOf(name);
    if (z < 0) {
      problems.push(`${name}: outside every zone`);
      continue;
    }
    const idx = names.addOwner(name, z, zones[z]!.name);
    const e = names.entries[idx]!;
    const byType = new Map<string, RawRecord[]>();
    for (const r of list) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
    for (const [type, rs] of byType) {
      const cname = addRecordSet(e, name, type, rs, zones[z]!.name, glueFor, cuts.has(name));
      if (cname) cnames.set(idx, cname);
    }
  }
  return { cnames, cuts };
}

/** One RRset of an entry; returns the record when it is the CNAME. */
function addRecordSet(
  e: NameEntry,
  owner: string,
  type: string,
  rs: RawRecord[],
  zoneName: string,
  glueFor: (targets: string[]) => Chunk,
  cut: boolean,
): CnameRecord | undefined {
  const code = TYPE_CODES[type]!;
  const ttl = Math.min(...rs.map((r) => r.ttl));
  const targets = rs.map((r) => {
    const parts = r.value.trim().split(/\s+/);
    return absoluteName(parts[parts.length - 1]!, zoneName);
  });
  const additional = type === 'NS' || type === 'MX' || type === 'SRV' ? glueFor(targets) : EMPTY;
  const rdatas = rs.map((r) => r.rdata);
  if (type === 'NS' && cut) e.delegation = { answer: suffixChunk(code, ttl, rdatas), additional };
  if (type === 'CNAME') {
    e.cname = { answer: answerChunk(code, ttl, [rs[0]!.rdata]), additional: EMPTY };
    return { owner, value: rs[0]!.value, ttl, rdata: rs[0]!.rdata };
  }
  const section: Section = { answer: answerChunk(code, ttl, rdatas), additional };
  e.rrsets.set(code, section);
  return undefined;
}

/** Glue: the address records of targets that are names of our zones. */
function glue(records: Map<string, RawRecord[]>, zoneOf: (name: string) => number): (targets: string[]) => Chunk {
  const addressesOf = (name: string) =>
    (records.get(name) ?? [])
      .filter((r) => r.type === 'A' || r.type === 'AAAA')
      .map((r) => ({ owner: name, type: TYPE_CODES[r.type]!, ttl: r.ttl, rdata: r.rdata }));
  return (targets) => ownedChunk(targets.flatMap((t) => (zoneOf(t) >= 0 ? addressesOf(t) : [])));
}
