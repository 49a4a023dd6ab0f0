import { type CatchmentConfig, type NormalConfig, normaliseConfig, type ZoneDnssecConfig } from '@catchment/core';
import { asc } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { edgeDsrOf, edgeWatermarksOf, policyRulesOf, sloConfigOf } from './rows.ts';
import * as t from './schema.ts';

type Tx = Pick<Db, 'select'>;
const stripPrefixLen = (addr: string) => addr.replace(/\/(32|128)$/, '');

/** The configuration objects in the database, in the canonical form of config files. */
export async function exportConfig(db: Tx): Promise<NormalConfig> {
  const [
    zones,
    records,
    edges,
    transits,
    prefixes,
    announcers,
    policies,
    rules,
    ruleEdges,
    services,
    addresses,
    slos,
    playbooks,
    settings,
  ] = await Promise.all([
    db.select().from(t.zones),
    db.select().from(t.records),
    db.select().from(t.edges),
    db.select().from(t.transits),
    db.select().from(t.prefixes),
    db.select().from(t.prefixAnnouncers),
    db.select().from(t.policies),
    db.select().from(t.policyRules).orderBy(asc(t.policyRules.position)),
    db.select().from(t.policyRuleEdges).orderBy(asc(t.policyRuleEdges.position)),
    db.select().from(t.services),
    db.select().from(t.serviceAddresses).orderBy(asc(t.serviceAddresses.id)),
    db.select().from(t.slos),
    db.select().from(t.playbooks),
    db.select().from(t.settings),
  ]);
  const edgeName = new Map(edges.map((e) => [e.id, e.name]));
  const zoneName = new Map(zones.map((z) => [z.id, z.name]));
  const prefixCidr = new Map(prefixes.map((p) => [p.id, p.cidr]));
  const policyName = new Map(policies.map((p) => [p.id, p.name]));

  const cfg: CatchmentConfig = {
    settings: (settings[0]?.values ?? {}) as CatchmentConfig['settings'],
    zones: zones.map((z) => ({
      name: z.name,
      ttl: z.ttl,
      soa: z.soa as NonNullable<CatchmentConfig['zones']>[number]['soa'],
      ns: z.ns,
      records: records
        .filter((r) => r.zoneId === z.id)
        .map((r) => ({ name: `${r.name}.`, type: r.type, ...(r.ttl === null ? {} : { ttl: r.ttl }), value: r.value })),
      ...(z.dnssec ? { dnssec: z.dnssec as ZoneDnssecConfig } : {}),
    })),
    edges: edges.map((e) => ({
      name: e.name,
      ...(e.description ? { description: e.description } : {}),
      location: {
        lat: e.lat,
        lon: e.lon,
        country: e.country,
        continent: e.continent as 'EU',
        ...(e.region ? { region: e.region } : {}),
      },
      capacity: { rps: e.capacityRps, ...(e.capacityGbps ? { gbps: e.capacityGbps } : {}) },
      state: e.state,
      override: e.override,
      ...(e.dsrAddress ? { dsrAddress: stripPrefixLen(e.dsrAddress) } : {}),
      ...edgeDsrOf(e),
      ...edgeWatermarksOf(e),
    })),
    transits: transits.map((tr) => ({
      name: tr.name,
      asn: tr.asn,
      intents: tr.intents as Record<string, string[]>,
    })),
    prefixes: prefixes.map((p) =>
      p.kind === 'unicast'
        ? {
            cidr: p.cidr,
            kind: 'unicast' as const,
            edge: edgeName.get(p.edgeId ?? -1) ?? '',
            ...(p.supernetId ? { supernet: prefixCidr.get(p.supernetId) ?? '' } : {}),
            communities: p.communities,
          }
        : {
            cidr: p.cidr,
            kind: 'anycast' as const,
            announcers: announcers.filter((a) => a.prefixId === p.id).map((a) => edgeName.get(a.edgeId) ?? ''),
            communities: p.communities,
          },
    ),
    policies: policies.map((p) => ({
      name: p.name,
      ...(p.description ? { description: p.description } : {}),
      rules: policyRulesOf(p.id, rules, ruleEdges, (id) => edgeName.get(id) ?? ''),
    })),
    services: services.map((s) => {
      const mine = addresses.filter((a) => a.serviceId === s.id);
      const byEdge: Record<string, { v4: string[]; v6: string[] }> = {};
      for (const a of mine) {
        const edge = edgeName.get(a.edgeId) ?? '';
        byEdge[edge] ??= { v4: [], v6: [] };
        const ip = stripPrefixLen(a.address);
        (ip.includes(':') ? byEdge[edge].v6 : byEdge[edge].v4).push(ip);
      }
      return {
        name: s.name,
        zone: zoneName.get(s.zoneId) ?? '',
        ttl: s.ttl,
        ...(s.policyId ? { policy: policyName.get(s.policyId) ?? '' } : {}),
        ports: s.ports,
        anycast: {
          ...(s.anycastV4 ? { v4: stripPrefixLen(s.anycastV4) } : {}),
          ...(s.anycastV6 ? { v6: stripPrefixLen(s.anycastV6) } : {}),
        },
        addresses: byEdge,
      };
    }),
    slos: slos.map((s) => sloConfigOf(s, s.edgeId ? (edgeName.get(s.edgeId) ?? '') : undefined)),
    playbooks: playbooks.map((p) => ({
      name: p.name,
      mode: p.mode,
      trigger: p.trigger as NonNullable<CatchmentConfig['playbooks']>[number]['trigger'],
      steps: p.steps as NonNullable<CatchmentConfig['playbooks']>[number]['steps'],
      ...(p.cooldown ? { cooldown: p.cooldown } : {}),
    })),
  };
  return normaliseConfig(cfg);
}
