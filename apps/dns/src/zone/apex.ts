import type { SnapshotZone } from '@catchment/core';
import { TYPE } from '../wire/constants.ts';
import { encodeName } from '../wire/names.ts';
import { answerChunk, EMPTY, suffixChunk } from './chunks.ts';
import type { NameEntries } from './names.ts';
import type { ZoneInfo } from './types.ts';

function soaRdata(z: SnapshotZone): Buffer {
  const counters = Buffer.alloc(20);
  counters.writeUInt32BE(z.soa.serial >>> 0, 0);
  counters.writeUInt32BE(z.soa.refresh >>> 0, 4);
  counters.writeUInt32BE(z.soa.retry >>> 0, 8);
  counters.writeUInt32BE(z.soa.expire >>> 0, 12);
  counters.writeUInt32BE(z.soa.minimum >>> 0, 16);
  return Buffer.concat([encodeName(z.soa.mname), encodeName(z.soa.rname), counters]);
}

/** Each zone's apex entry with its SOA, and the zone's negative answer (indexed like `zones`). */
export function compileApexes(zones: SnapshotZone[], zoneOf: (name: string) => number, names: NameEntries): ZoneInfo[] {
  const out: ZoneInfo[] = [];
  for (const z of zones) {
    const zi = zoneOf(z.name);
    const idx = names.add(z.name, zi);
    const apex = names.entries[idx]!;
    apex.hasData = true;
    const soa = soaRdata(z);
    apex.rrsets.set(TYPE.SOA, { answer: answerChunk(TYPE.SOA, z.ttl, [soa]), additional: EMPTY });
    // RFC 2308 §5: the negative TTL is the smaller of the SOA's TTL and its MINIMUM.
    out[zi] = {
      name: z.name,
      entry: idx,
      wireLen: encodeName(z.name).length,
      soa: suffixChunk(TYPE.SOA, Math.min(z.ttl, z.soa.minimum), [soa]),
      negativeTtl: Math.min(z.ttl, z.soa.minimum),
    };
  }
  return out;
}
