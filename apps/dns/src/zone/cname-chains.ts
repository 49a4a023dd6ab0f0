import type { SnapshotZone } from '@catchment/core';
import { TYPE } from '../wire/constants.ts';
import { absoluteName, encodeName } from '../wire/names.ts';
import { EMPTY, rrTail } from './chunks.ts';
import type { NameEntries } from './names.ts';
import type { CnameRecord } from './rrsets.ts';

/** CNAME records followed in one answer (Knot and BIND stop around here too). */
const MAX_CHAIN = 8;

/**
 * In-zone CNAME chains (RFC 1034 §4.3.2 step 3a): follow the targets that are our names, up
 * to MAX_CHAIN records; a loop or a target outside our zones ends the chain. Each CNAME's
 * entry gets the chain and, when it ends at one of our names without a CNAME, that name.
 */
export function compileCnameChains(cnames: Map<number, CnameRecord>, zones: SnapshotZone[], names: NameEntries): void {
  const entries = names.entries;
  const next = new Map<number, number>();
  for (const [self, c] of cnames) {
    const z = entries[self]!.zone;
    const t = names.find(absoluteName(c.value, zones[z]!.name));
    if (t >= 0 && t !== self) next.set(self, t);
  }
  for (const self of cnames.keys()) {
    const e = entries[self]!;
    const parts = [e.cname!.answer.bytes];
    // The first CNAME's target sits after its 0xC00C owner and type/class/TTL/length.
    let length = parts[0]!.length;
    let targetAt = 12;
    const seen = new Set([self]);
    let t = next.get(self) ?? -1;
    while (t >= 0 && cnames.has(t) && !seen.has(t) && parts.length < MAX_CHAIN) {
      const c = cnames.get(t)!;
      const owner = encodeName(c.owner);
      parts.push(Buffer.concat([owner, rrTail(TYPE.CNAME, c.ttl, c.rdata)]));
      targetAt = length + owner.length + 10;
      length += parts[parts.length - 1]!.length;
      seen.add(t);
      t = next.get(t) ?? -1;
    }
    e.cnameChain = {
      answer: { bytes: Buffer.concat(parts), count: parts.length, patches: [], owners: [0], at: targetAt },
      additional: EMPTY,
    };
    e.cnameTarget = t >= 0 && !cnames.has(t) ? t : -1;
    e.cnameTargetAt = targetAt;
  }
}
