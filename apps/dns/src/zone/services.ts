import type { SnapshotBody } from '@catchment/core';
import type { SteeringTable } from '@catchment/geo';
import { TYPE } from '../wire/constants.ts';
import { encodeRdata } from '../wire/rdata.ts';
import { answerChunk } from './chunks.ts';
import type { NameEntries } from './names.ts';
import type { Chunk, ServiceAnswers } from './types.ts';

/**
 * Each steered service's prebuilt answers: index 0 the anycast address, then one per leaf edge
 * of its steering class (an edge without an address of a family answers with the anycast one).
 */
export function compileServices(
  body: SnapshotBody,
  steering: SteeringTable,
  zoneOf: (name: string) => number,
  names: NameEntries,
  problems: string[],
): ServiceAnswers[] {
  const services: ServiceAnswers[] = [];
  for (const svc of body.services) {
    const z = zoneOf(svc.name);
    const classIdx = steering.serviceClass.get(svc.name);
    if (z < 0 || classIdx === undefined) {
      problems.push(`service ${svc.name}: not inside a zone`);
      continue;
    }
    const cls = steering.classes[classIdx]!;
    const idx = names.addOwner(svc.name, z, body.zones[z]!.name);
    names.entries[idx]!.service = services.length;
    const enc = (type: 'A' | 'AAAA', list: string[]) =>
      answerChunk(
        type === 'A' ? TYPE.A : TYPE.AAAA,
        svc.ttl,
        list.map((v) => encodeRdata(type, v, svc.zone)),
      );
    const a: Chunk[] = [enc('A', svc.anycast.v4 ? [svc.anycast.v4] : [])];
    const aaaa: Chunk[] = [enc('AAAA', svc.anycast.v6 ? [svc.anycast.v6] : [])];
    const edges: (string | null)[] = [null];
    for (const edge of cls.edges) {
      const addr = svc.addresses.find((x) => x.edge === edge.name);
      a.push(addr && addr.v4.length > 0 ? enc('A', addr.v4) : a[0]!);
      aaaa.push(addr && addr.v6.length > 0 ? enc('AAAA', addr.v6) : aaaa[0]!);
      edges.push(edge.name);
    }
    services.push({ name: svc.name, classIdx, a, aaaa, edges, answerCounts: new Float64Array(edges.length) });
  }
  return services;
}
