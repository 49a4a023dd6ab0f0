import type {
  EdgeConfig,
  PlaybookConfig,
  PolicyConfig,
  PrefixConfig,
  ServiceConfig,
  SloConfig,
  TransitConfig,
  ZoneConfig,
} from '@catchment/core';
import { type Db, edgeDsrOf, edgeWatermarksOf, policyRulesOf, schema, sloConfigOf } from '@catchment/db';
import { asc } from 'drizzle-orm';

/**
 * The database read back in the shape of the configuration file (config-schema.ts):
 * the API's resources use that shape, so a body posted to /v1/edges is an edge of the
 * configuration file, and `validateConfig`'s domain rules apply unchanged.
 */
type Row<T extends keyof typeof schema> = (typeof schema)[T] extends { $inferSelect: infer R } ? R : never;

/** Drops null and undefined members: the configuration schema has optional, not nullable, fields. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as T;
}

export function edgeOf(r: Row<'edges'>): EdgeConfig {
  return compact({
    name: r.name,
    description: r.description ?? undefined,
    location: compact({
      lat: r.lat,
      lon: r.lon,
      country: r.country,
      continent: r.continent as never,
      region: r.region ?? undefined,
    }),
    capacity: compact({ rps: r.capacityRps, gbps: r.capacityGbps ?? undefined }),
    state: r.state,
    override: r.override,
    dsrAddress: r.dsrAddress ?? undefined,
    ...edgeDsrOf(r),
    ...edgeWatermarksOf(r),
  });
}

export type ZoneResource = Omit<ZoneConfig, 'records'>;
export function zoneOf(r: Row<'zones'>): ZoneResource {
  return { name: r.name, ttl: r.ttl, soa: r.soa as ZoneConfig['soa'], ns: r.ns };
}

export interface Names {
  edges: Map<number, string>;
  zones: Map<number, string>;
  policies: Map<number, string>;
  prefixes: Map<number, string>;
}

export async function loadNames(db: Db): Promise<Names> {
  const [e, z, p, x] = await Promise.all([
    db.select({ id: schema.edges.id, name: schema.edges.name }).from(schema.edges),
    db.select({ id: schema.zones.id, name: schema.zones.name }).from(schema.zones),
    db.select({ id: schema.policies.id, name: schema.policies.name }).from(schema.policies),
    db.select({ id: schema.prefixes.id, name: schema.prefixes.cidr }).from(schema.prefixes),
  ]);
  const m = (rows: { id: number; name: string }[]) => new Map(rows.map((r) => [r.id, r.name]));
  return { edges: m(e), zones: m(z), policies: m(p), prefixes: m(x) };
}

export interface PrefixResource extends Record<string, unknown> {
  id: number;
  cidr: string;
  kind: 'unicast' | 'anycast';
  edge?: string;
  announcers?: string[];
  supernet?: string;
  communities: string[];
}

export function prefixOf(r: Row<'prefixes'>, names: Names, announcers: string[]): PrefixResource {
  return r.kind === 'unicast'
    ? compact({
        id: r.id,
        cidr: r.cidr,
        kind: 'unicast' as const,
        edge: names.edges.get(r.edgeId ?? -1) ?? '',
        supernet: r.supernetId === null ? undefined : names.prefixes.get(r.supernetId),
        communities: r.communities,
      })
    : { id: r.id, cidr: r.cidr, kind: 'anycast' as const, announcers, communities: r.communities };
}

export function prefixConfigOf(p: PrefixResource): PrefixConfig {
  const { id: _id, ...rest } = p;
  return rest as PrefixConfig;
}

export function transitOf(r: Row<'transits'>): TransitConfig {
  return { name: r.name, asn: r.asn, intents: r.intents as TransitConfig['intents'] };
}

export function sloOf(r: Row<'slos'>, names: Names): SloConfig {
  return sloConfigOf(r, r.edgeId === null ? undefined : names.edges.get(r.edgeId));
}

export function playbookOf(r: Row<'playbooks'>): PlaybookConfig {
  return compact({
    name: r.name,
    mode: r.mode,
    trigger: r.trigger as PlaybookConfig['trigger'],
    steps: r.steps as PlaybookConfig['steps'],
    cooldown: r.cooldown ?? undefined,
  });
}

export async function loadPrefixes(db: Db, names?: Names): Promise<PrefixResource[]> {
  const n = names ?? (await loadNames(db));
  const [rows, ann] = await Promise.all([
    db.select().from(schema.prefixes).orderBy(asc(schema.prefixes.id)),
    db.select().from(schema.prefixAnnouncers),
  ]);
  return rows.map((r) =>
    prefixOf(
      r,
      n,
      ann
        .filter((a) => a.prefixId === r.id)
        .map((a) => n.edges.get(a.edgeId) ?? '')
        .sort(),
    ),
  );
}

export async function loadPolicies(db: Db, names?: Names): Promise<(PolicyConfig & { id: number })[]> {
  const n = names ?? (await loadNames(db));
  const [pols, rules, targets] = await Promise.all([
    db.select().from(schema.policies).orderBy(asc(schema.policies.id)),
    db.select().from(schema.policyRules).orderBy(asc(schema.policyRules.position)),
    db.select().from(schema.policyRuleEdges).orderBy(asc(schema.policyRuleEdges.position)),
  ]);
  return pols.map((p) =>
    compact({
      id: p.id,
      name: p.name,
      description: p.description ?? undefined,
      rules: policyRulesOf(p.id, rules, targets, (id) => n.edges.get(id) ?? ''),
    }),
  );
}

export async function loadServices(db: Db, names?: Names): Promise<(ServiceConfig & { id: number })[]> {
  const n = names ?? (await loadNames(db));
  const [svcs, addrs] = await Promise.all([
    db.select().from(schema.services).orderBy(asc(schema.services.id)),
    db.select().from(schema.serviceAddresses).orderBy(asc(schema.serviceAddresses.id)),
  ]);
  return svcs.map((s) => {
    const addresses: ServiceConfig['addresses'] = {};
    for (const a of addrs.filter((x) => x.serviceId === s.id)) {
      const edge = n.edges.get(a.edgeId) ?? '';
      const slot = addresses[edge] ?? {};
      const fam = a.address.includes(':') ? 'v6' : 'v4';
      slot[fam] = [...(slot[fam] ?? []), a.address];
      addresses[edge] = slot;
    }
    return compact({
      id: s.id,
      name: s.name,
      zone: n.zones.get(s.zoneId) ?? '',
      ttl: s.ttl,
      policy: s.policyId === null ? undefined : n.policies.get(s.policyId),
      ports: s.ports,
      anycast: compact({ v4: s.anycastV4 ?? undefined, v6: s.anycastV6 ?? undefined }),
      addresses,
    });
  });
}
