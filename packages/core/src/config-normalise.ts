import { normaliseName } from './config.ts';
import type { CatchmentConfig, EdgeDsrConfig } from './config-schema.ts';
import { canonicalIp, parseCidr } from './net.ts';

/**
 * The canonical form of a configuration: names lower case and absolute (record names
 * relative to their zone, `@` for the apex), CIDRs and addresses canonical, defaults
 * filled in, lists of objects sorted by name. `export` writes this form, and `import`
 * diffs the file against the database in it, so an unchanged object is never rewritten.
 */
export const DEFAULT_SERVICE_TTL = 30;
export const DEFAULT_ZONE_TTL = 3600;
export const DEFAULT_SERVICE_PORTS = [80, 443];

const byName = <T extends { name: string }>(list: T[]) => list.sort((a, b) => a.name.localeCompare(b.name));

function relative(name: string, zone: string): string {
  const abs = normaliseName(name, zone);
  if (abs === zone) return '@';
  return abs.endsWith(`.${zone}`) ? abs.slice(0, -zone.length - 1) : `${abs}.`;
}

const fqdn = (name: string) => `${normaliseName(name)}.`;

export function normaliseConfig(cfg: CatchmentConfig): Required<CatchmentConfig> {
  return {
    settings: { ...cfg.settings },
    zones: byName(
      (cfg.zones ?? []).map((z) => {
        const name = normaliseName(z.name);
        return {
          name,
          ttl: z.ttl ?? DEFAULT_ZONE_TTL,
          soa: {
            mname: fqdn(z.soa.mname),
            rname: fqdn(z.soa.rname),
            serial: z.soa.serial,
            refresh: z.soa.refresh,
            retry: z.soa.retry,
            expire: z.soa.expire,
            minimum: z.soa.minimum,
          },
          ns: z.ns.map(fqdn),
          records: (z.records ?? [])
            .map((r) => ({
              name: relative(r.name, name),
              type: r.type,
              ...(r.ttl === undefined ? {} : { ttl: r.ttl }),
              value: r.value.trim(),
            }))
            .sort((a, b) => `${a.name} ${a.type} ${a.value}`.localeCompare(`${b.name} ${b.type} ${b.value}`)),
          ...(z.dnssec ? { dnssec: { ...z.dnssec } } : {}),
        };
      }),
    ),
    edges: byName(
      (cfg.edges ?? []).map((e) => ({
        ...e,
        state: e.state ?? 'active',
        override: e.override ?? 'none',
        ...(e.dsrAddress ? { dsrAddress: canonicalIp(e.dsrAddress) } : {}),
        ...withDsr(e.dsr),
      })),
    ),
    transits: byName((cfg.transits ?? []).map((t) => ({ ...t }))),
    prefixes: (cfg.prefixes ?? [])
      .map((p) =>
        p.kind === 'unicast'
          ? {
              ...p,
              cidr: parseCidr(p.cidr).text,
              ...(p.supernet ? { supernet: parseCidr(p.supernet).text } : {}),
              communities: p.communities ?? [],
            }
          : {
              ...p,
              cidr: parseCidr(p.cidr).text,
              announcers: [...p.announcers].sort(),
              communities: p.communities ?? [],
            },
      )
      .sort((a, b) => a.cidr.localeCompare(b.cidr)),
    policies: byName(
      (cfg.policies ?? []).map((p) => ({
        ...p,
        rules: p.rules.map((r) => ('cidr' in r.match ? { ...r, match: { cidr: parseCidr(r.match.cidr).text } } : r)),
      })),
    ),
    services: byName(
      (cfg.services ?? []).map((s) => {
        const zone = normaliseName(s.zone);
        const addresses: typeof s.addresses = {};
        for (const edge of Object.keys(s.addresses).sort()) {
          const a = s.addresses[edge] ?? {};
          addresses[edge] = { v4: (a.v4 ?? []).map(canonicalIp), v6: (a.v6 ?? []).map(canonicalIp) };
        }
        return {
          name: normaliseName(s.name, zone),
          zone,
          ttl: s.ttl ?? DEFAULT_SERVICE_TTL,
          ...(s.policy ? { policy: s.policy } : {}),
          ports: s.ports ?? DEFAULT_SERVICE_PORTS,
          anycast: {
            ...(s.anycast.v4 ? { v4: canonicalIp(s.anycast.v4) } : {}),
            ...(s.anycast.v6 ? { v6: canonicalIp(s.anycast.v6) } : {}),
          },
          addresses,
        };
      }),
    ),
    slos: byName((cfg.slos ?? []).map((s) => ({ ...s }))),
    playbooks: byName((cfg.playbooks ?? []).map((p) => ({ ...p, mode: p.mode ?? 'auto' }))),
  };
}

export type NormalConfig = ReturnType<typeof normaliseConfig>;

/**
 * An edge's DSR settings in their one form: absent when every value is the default
 * (IP-in-IP, default GUE port, no client prefixes), client prefixes canonical and sorted.
 */
function withDsr(d: EdgeDsrConfig | undefined): { dsr?: EdgeDsrConfig } {
  const encap = d?.encap ?? 'ipip';
  const clientPrefixes = (d?.clientPrefixes ?? [])
    .map((p) => ({ cidr: parseCidr(p.cidr).text, mode: p.mode }))
    .sort((a, b) => a.cidr.localeCompare(b.cidr));
  if (encap === 'ipip' && d?.guePort === undefined && clientPrefixes.length === 0) return {};
  return {
    dsr: {
      encap,
      ...(d?.guePort === undefined ? {} : { guePort: d.guePort }),
      ...(clientPrefixes.length > 0 ? { clientPrefixes } : {}),
    },
  };
}
