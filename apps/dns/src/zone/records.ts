import type { SnapshotZone } from '@catchment/core';
import { absoluteName } from '../wire/names.ts';
import { encodeRdata } from '../wire/rdata.ts';

/** One record of a zone with its rdata encoded (owner absolute). */
export interface RawRecord {
  name: string;
  type: string;
  ttl: number;
  rdata: Buffer;
  value: string;
}

/** Every zone's records (its NS set included) by owner name; one that cannot be encoded is a problem, never fatal. */
export function collectRecords(zones: SnapshotZone[], problems: string[]): Map<string, RawRecord[]> {
  const records = new Map<string, RawRecord[]>();
  const add = (name: string, type: string, ttl: number, value: string, zone: SnapshotZone) => {
    try {
      const rdata = encodeRdata(type, value, zone.name);
      const list = records.get(name) ?? [];
      list.push({ name, type, ttl, rdata, value });
      records.set(name, list);
    } catch (err) {
      problems.push(`${name} ${type} "${value}": ${(err as Error).message}`);
    }
  };
  for (const z of zones) {
    for (const ns of z.ns) add(z.name, 'NS', z.ttl, `${absoluteName(ns, z.name)}.`, z);
    for (const r of z.records) add(absoluteName(r.name, z.name), r.type, r.ttl, r.value, z);
  }
  return records;
}
