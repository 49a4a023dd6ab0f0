import type { Snapshot } from '@catchment/core';
import type { SteeringTable } from '@catchment/geo';
import { BlockCounts } from '../block-counts.ts';
import { newSignatureCache } from '../dnssec/signer.ts';
import { TYPE } from '../wire/constants.ts';
import { compileApexes } from './apex.ts';
import { answerChunk } from './chunks.ts';
import { compileCnameChains } from './cname-chains.ts';
import { NameEntries, zoneLookup } from './names.ts';
import { collectRecords, type RawRecord } from './records.ts';
import { compileRecordSets } from './rrsets.ts';
import { compileServices } from './services.ts';
import { type DnssecOptions, signZones } from './sign.ts';
import type { CompiledZones } from './types.ts';

const HINFO_RDATA = Buffer.concat([Buffer.from([7]), Buffer.from('RFC8482'), Buffer.from([0])]);

/**
 * Compiles a snapshot for the query path (see CompiledZones): the apexes first, then every
 * owner's RRsets, the steered services, CNAME chains and wildcards; signed zones last.
 */
export function compileZones(snapshot: Snapshot, steering: SteeringTable, dnssec?: DnssecOptions): CompiledZones {
  const body = snapshot.body;
  const names = new NameEntries();
  const problems: string[] = [];
  const zoneOf = zoneLookup(body.zones);
  const records = collectRecords(body.zones, problems);
  const zones = compileApexes(body.zones, zoneOf, names);
  const { cnames, cuts } = compileRecordSets(records, body.zones, zoneOf, names, problems);
  const services = compileServices(body, steering, zoneOf, names, problems);
  compileCnameChains(cnames, body.zones, names);
  linkWildcards(records, names);
  const compiled: CompiledZones = {
    version: snapshot.version,
    table: names.table,
    entries: names.entries,
    zones,
    services,
    steering,
    blockCounts: steering.classes.map((c) => new BlockCounts(c.trie.nodes.length)),
    hinfo: answerChunk(TYPE.HINFO, 3600, [HINFO_RDATA]),
    hasCuts: cuts.size > 0,
    problems,
    signers: [],
    resignAt: Number.POSITIVE_INFINITY,
  };
  if (body.zones.some((z) => z.dnssec)) {
    signZones(compiled, snapshot, dnssec ?? { kek: undefined, cache: newSignatureCache() });
  }
  return compiled;
}

/** Wildcards: the parent of `*.x` learns where its wildcard is. */
function linkWildcards(records: Map<string, RawRecord[]>, names: NameEntries): void {
  for (const name of records.keys()) {
    if (!name.startsWith('*.')) continue;
    const p = names.find(name.slice(2));
    if (p >= 0) names.entries[p]!.wildcard = names.find(name);
  }
}
