import { readFile } from 'node:fs/promises';
import { parseDocument, stringify } from 'yaml';
import { CatchmentConfig, type ZoneDnssecConfig } from './config-schema.ts';
import { durationProblem, parseDuration } from './duration.ts';
import { CatchmentError, type ErrorCode, type FieldError } from './errors.ts';
import { type Cidr, canonicalIp, cidrContains, cidrOverlaps, cidrProblem, ipFamily, parseCidr } from './net.ts';
import { zoneRecordErrors } from './records.ts';
import { DEFAULT_SETTINGS } from './settings.ts';
import { type ObjectiveMetric, objectiveProblem } from './slo-objective.ts';

/** UDP port of GUE when an edge's `dsr.guePort` is absent. */
export const DEFAULT_GUE_PORT = 6080;

import { schemaErrors } from './validate.ts';

/** Lower case, absolute, no final dot: the one form names take inside Catchment. */
export function normaliseName(name: string, origin?: string): string {
  const lower = name.toLowerCase();
  if (lower === '@') return origin ?? '';
  if (lower.endsWith('.')) return lower.slice(0, -1);
  return origin && lower !== origin && !lower.endsWith(`.${origin}`) ? `${lower}.${origin}` : lower;
}

const COMMUNITY_NAMES = new Set([
  'NO_EXPORT',
  'NO_ADVERTISE',
  'NO_EXPORT_SUBCONFED',
  'NO_PEER',
  'BLACKHOLE',
  'GRACEFUL_SHUTDOWN',
  'ACCEPT_OWN',
  'LLGR_STALE',
  'NO_LLGR',
]);

/** Why a community is not valid, or undefined (RFC 1997 standard, RFC 8092 large, well-known names). */
export function communityProblem(text: string): string | undefined {
  if (/^[A-Z_]+$/.test(text)) {
    return COMMUNITY_NAMES.has(text) ? undefined : `unknown well-known community "${text}"`;
  }
  const parts = text.split(':');
  const limit = parts.length === 2 ? 0xffff : parts.length === 3 ? 0xffffffff : -1;
  if (limit < 0) return 'must be a:b (standard), a:b:c (large) or a well-known name';
  for (const p of parts) {
    if (!/^\d+$/.test(p) || Number(p) > limit) {
      return `"${p}" is out of range (${parts.length === 2 ? '16' : '32'}-bit parts)`;
    }
  }
  return undefined;
}

/**
 * Every domain rule the schema cannot express, with the path of the offending field:
 * references by name, CIDR syntax and host bits, unicast prefixes inside their
 * supernet and owned by one edge, announceable lengths, community syntax.
 */
/** A zone's DNSSEC settings: durations bounded like every other, and signatures renewed before they lapse. */
export function dnssecConfigErrors(d: ZoneDnssecConfig): FieldError[] {
  const errors: FieldError[] = [];
  for (const key of ['signatureValidity', 'refresh', 'jitter'] as const) {
    const text = d[key];
    const prob = text === undefined ? undefined : durationProblem(text);
    if (prob) errors.push({ path: `/${key}`, message: prob, code: 'VALIDATION_FAILED' });
  }
  if (errors.length === 0 && d.signatureValidity && d.refresh) {
    if (parseDuration(d.refresh) >= parseDuration(d.signatureValidity))
      errors.push({
        path: '/refresh',
        message: `refresh ${d.refresh} must be shorter than signatureValidity ${d.signatureValidity}: signatures would lapse before renewal`,
        code: 'VALIDATION_FAILED',
      });
  }
  return errors;
}

export function domainErrors(cfg: CatchmentConfig): FieldError[] {
  const errors: FieldError[] = [];
  const err = (path: string, message: string, code: ErrorCode) => errors.push({ path, message, code });
  const settings = { ...DEFAULT_SETTINGS, ...cfg.settings };

  const names = (list: { name: string }[] | undefined, path: string, norm = (s: string) => s) => {
    const seen = new Set<string>();
    list?.forEach((item, i) => {
      const n = norm(item.name);
      if (seen.has(n)) err(`/${path}/${i}/name`, `duplicate name "${item.name}"`, 'NAME_TAKEN');
      seen.add(n);
    });
    return seen;
  };
  const zones = names(cfg.zones, 'zones', (s) => normaliseName(s));
  const edges = names(cfg.edges, 'edges');
  const policies = names(cfg.policies, 'policies');
  const slos = names(cfg.slos, 'slos');
  names(cfg.playbooks, 'playbooks');
  names(cfg.transits, 'transits');
  names(cfg.services, 'services', (s) => normaliseName(s));
  const edgeRef = (path: string, name: string) => {
    if (!edges.has(name)) err(path, `unknown edge "${name}"`, 'REFERENCE_UNKNOWN');
  };
  const ipRef = (path: string, ip: string, family?: 4 | 6) => {
    const f = ipFamily(ip);
    if (f === undefined) err(path, `"${ip}" is not an IP address`, 'ADDRESS_INVALID');
    else if (family && f !== family) err(path, `"${ip}" is not an IPv${family} address`, 'ADDRESS_INVALID');
  };

  cfg.settings?.ecsTrustedResolvers?.forEach((c, i) => {
    const p = cidrProblem(c);
    if (p) err(`/settings/ecsTrustedResolvers/${i}`, p, 'CIDR_INVALID');
  });

  cfg.edges?.forEach((e, i) => {
    if (e.dsrAddress) ipRef(`/edges/${i}/dsrAddress`, e.dsrAddress);
  });

  cfg.services?.forEach((s, i) => {
    const zone = normaliseName(s.zone);
    const name = normaliseName(s.name, zone);
    if (!zones.has(zone)) err(`/services/${i}/zone`, `unknown zone "${s.zone}"`, 'REFERENCE_UNKNOWN');
    else if (name !== zone && !name.endsWith(`.${zone}`))
      err(`/services/${i}/name`, `"${s.name}" is not inside zone "${s.zone}"`, 'NAME_OUT_OF_ZONE');
    if (s.policy && !policies.has(s.policy))
      err(`/services/${i}/policy`, `unknown policy "${s.policy}"`, 'REFERENCE_UNKNOWN');
    if (s.anycast.v4) ipRef(`/services/${i}/anycast/v4`, s.anycast.v4, 4);
    if (s.anycast.v6) ipRef(`/services/${i}/anycast/v6`, s.anycast.v6, 6);
    for (const [edge, addr] of Object.entries(s.addresses)) {
      edgeRef(`/services/${i}/addresses/${edge}`, edge);
      addr.v4?.forEach((a, j) => ipRef(`/services/${i}/addresses/${edge}/v4/${j}`, a, 4));
      addr.v6?.forEach((a, j) => ipRef(`/services/${i}/addresses/${edge}/v6/${j}`, a, 6));
    }
  });

  const steered = new Set(cfg.services?.map((s) => normaliseName(s.name, normaliseName(s.zone))));
  cfg.zones?.forEach((z, i) => {
    for (const e of zoneRecordErrors(z, normaliseName, steered)) errors.push({ ...e, path: `/zones/${i}${e.path}` });
    if (z.dnssec)
      for (const e of dnssecConfigErrors(z.dnssec)) errors.push({ ...e, path: `/zones/${i}/dnssec${e.path}` });
  });

  cfg.policies?.forEach((p, i) => {
    p.rules.forEach((r, j) => {
      if ('cidr' in r.match) {
        const prob = cidrProblem(r.match.cidr);
        if (prob) err(`/policies/${i}/rules/${j}/match/cidr`, prob, 'CIDR_INVALID');
      }
      r.edges.forEach((e, k) => edgeRef(`/policies/${i}/rules/${j}/edges/${k}`, e));
    });
  });

  const transitNames = new Set(cfg.transits?.map((t) => t.name));
  cfg.transits?.forEach((t, i) => {
    for (const [intent, list] of Object.entries(t.intents)) {
      list.forEach((c, j) => {
        const prob = communityProblem(c);
        if (prob) err(`/transits/${i}/intents/${intent}/${j}`, prob, 'COMMUNITY_INVALID');
      });
    }
  });

  // Prefixes: syntax, announceable length, supernet containment, one owner per unicast block.
  const parsed: (Cidr | undefined)[] = [];
  const byText = new Map<string, number>();
  cfg.prefixes?.forEach((p, i) => {
    const prob = cidrProblem(p.cidr);
    if (prob) {
      err(`/prefixes/${i}/cidr`, prob, 'CIDR_INVALID');
      parsed.push(undefined);
      return;
    }
    const c = parseCidr(p.cidr);
    parsed.push(c);
    const max = c.family === 4 ? settings.maxAnnounceLengthV4 : settings.maxAnnounceLengthV6;
    if (c.length > max)
      err(
        `/prefixes/${i}/cidr`,
        `/${c.length} is longer than the longest announceable IPv${c.family} prefix /${max}`,
        'PREFIX_TOO_LONG',
      );
    if (byText.has(c.text))
      err(`/prefixes/${i}/cidr`, `duplicate prefix ${c.text} (also /prefixes/${byText.get(c.text)})`, 'PREFIX_OVERLAP');
    byText.set(c.text, i);
    p.communities?.forEach((cm, j) => {
      const cp = communityProblem(cm);
      if (cp) err(`/prefixes/${i}/communities/${j}`, cp, 'COMMUNITY_INVALID');
    });
    if (p.kind === 'unicast') edgeRef(`/prefixes/${i}/edge`, p.edge);
    else p.announcers.forEach((a, j) => edgeRef(`/prefixes/${i}/announcers/${j}`, a));
  });
  cfg.prefixes?.forEach((p, i) => {
    const c = parsed[i];
    if (!c || p.kind !== 'unicast') return;
    if (p.supernet !== undefined) {
      const si = byText.get(cidrProblem(p.supernet) ? p.supernet : parseCidr(p.supernet).text);
      const sup = si === undefined ? undefined : cfg.prefixes?.[si];
      const sc = si === undefined ? undefined : parsed[si];
      if (!sup || !sc)
        err(`/prefixes/${i}/supernet`, `supernet ${p.supernet} is not declared as a prefix`, 'REFERENCE_UNKNOWN');
      else if (sup.kind !== 'anycast')
        err(`/prefixes/${i}/supernet`, `${p.supernet} is not an anycast supernet`, 'PREFIX_OUTSIDE_SUPERNET');
      else if (!cidrContains(sc, c) || sc.length === c.length)
        err(`/prefixes/${i}/supernet`, `${c.text} is not inside ${sc.text}`, 'PREFIX_OUTSIDE_SUPERNET');
    }
    cfg.prefixes?.forEach((q, j) => {
      const d = parsed[j];
      if (j <= i || !d || q.kind !== 'unicast') return;
      if (cidrOverlaps(c, d)) {
        const owners = q.edge === p.edge ? 'both' : `owned by "${p.edge}" and "${q.edge}"`;
        err(
          `/prefixes/${j}/cidr`,
          `unicast ${d.text} overlaps unicast ${c.text} (/prefixes/${i}, ${owners})`,
          'PREFIX_OVERLAP',
        );
      }
    });
  });

  const duration = (path: string, text: string | undefined, code: ErrorCode) => {
    const prob = text === undefined ? undefined : durationProblem(text);
    if (prob) err(path, prob, code);
  };
  // DSR: where shed flows are sent must route to this edge alone, and the data plane's limits.
  cfg.edges?.forEach((e, i) => {
    const fam = e.dsrAddress ? ipFamily(e.dsrAddress) : undefined;
    if (e.dsrAddress && fam !== undefined) {
      const at = parseCidr(`${e.dsrAddress}/${fam === 4 ? 32 : 128}`);
      const addr = canonicalIp(e.dsrAddress);
      cfg.prefixes?.forEach((p, j) => {
        const c = parsed[j];
        if (!c || !cidrContains(c, at)) return;
        if (p.kind === 'unicast' && p.edge !== e.name)
          err(
            `/edges/${i}/dsrAddress`,
            `${addr} is inside ${c.text}, the unicast prefix of edge "${p.edge}": DSR traffic would reach that edge`,
            'DSR_ADDRESS_INVALID',
          );
        const others = p.kind === 'anycast' ? p.announcers.filter((a) => a !== e.name) : [];
        if (others.length > 0)
          err(
            `/edges/${i}/dsrAddress`,
            `${addr} is inside anycast ${c.text}, announced by ${others.map((o) => `"${o}"`).join(', ')} too: ` +
              `DSR traffic to it would follow anycast to the nearest announcer (at the latest when a covering unicast ` +
              `prefix is withdrawn); use an address of a unicast prefix of "${e.name}" outside the anycast supernets`,
            'DSR_ADDRESS_INVALID',
          );
      });
    }
    const seen = new Map<string, number>();
    e.dsr?.clientPrefixes?.forEach((cp, j) => {
      const path = `/edges/${i}/dsr/clientPrefixes/${j}`;
      const prob = cidrProblem(cp.cidr);
      if (prob) return err(`${path}/cidr`, prob, 'CIDR_INVALID');
      const text = parseCidr(cp.cidr).text;
      const before = seen.get(text);
      if (before !== undefined)
        err(`${path}/cidr`, `${text} is listed twice (also clientPrefixes/${before})`, 'DSR_INVALID');
      seen.set(text, j);
    });
    if (e.dsr?.guePort !== undefined && (e.dsr.encap ?? 'ipip') !== 'gue')
      err(`/edges/${i}/dsr/guePort`, 'guePort is only used with encap: gue', 'DSR_INVALID');
  });
  // A receiving edge decapsulates GUE on one port: every edge that sends GUE must use the same.
  const gue = (cfg.edges ?? []).flatMap((e, i) =>
    e.dsr?.encap === 'gue' ? [{ i, name: e.name, port: e.dsr.guePort ?? DEFAULT_GUE_PORT }] : [],
  );
  for (const g of gue.slice(1)) {
    if (g.port !== gue[0]!.port)
      err(
        `/edges/${g.i}/dsr/guePort`,
        `GUE port ${g.port} differs from ${gue[0]!.port} of edge "${gue[0]!.name}": receivers decapsulate GUE on one port`,
        'DSR_INVALID',
      );
  }

  // Watermarks: low ≤ high (equal: the edge is held at that utilisation; both 1: only the threshold counts).
  const watermarks = (path: string, w: { low: number; high: number } | false | undefined) => {
    if (w && w.low > w.high)
      err(`${path}/low`, `low watermark ${w.low} is above high watermark ${w.high}`, 'WATERMARKS_INVALID');
  };
  watermarks('/settings/watermarks', cfg.settings?.watermarks);
  cfg.edges?.forEach((e, i) => watermarks(`/edges/${i}/watermarks`, e.watermarks));

  cfg.slos?.forEach((s, i) => {
    if (s.edge) edgeRef(`/slos/${i}/edge`, s.edge);
    duration(`/slos/${i}/window`, s.window, 'SLO_INVALID');
    if (s.exit > s.enter)
      err(
        `/slos/${i}/exit`,
        `exit threshold ${s.exit} is above enter threshold ${s.enter} (no hysteresis)`,
        'SLO_INVALID',
      );
    if (s.objective) {
      duration(`/slos/${i}/objective/window`, s.objective.window, 'SLO_INVALID');
      const problem = objectiveProblem(s.metric as ObjectiveMetric, s.objective);
      if (problem) err(`/slos/${i}/objective`, problem, 'SLO_INVALID');
    }
  });

  cfg.playbooks?.forEach((pb, i) => {
    if ('slo' in pb.trigger && !slos.has(pb.trigger.slo))
      err(`/playbooks/${i}/trigger/slo`, `unknown SLO "${pb.trigger.slo}"`, 'REFERENCE_UNKNOWN');
    duration(`/playbooks/${i}/cooldown`, pb.cooldown, 'PLAYBOOK_INVALID');
    pb.steps.forEach((st, j) => {
      const path = `/playbooks/${i}/steps/${j}`;
      duration(`${path}/dwell`, st.dwell, 'PLAYBOOK_INVALID');
      duration(`${path}/verify/within`, st.verify?.within, 'PLAYBOOK_INVALID');
      if (st.kind === 'dns-shift') {
        st.schedule.forEach((v, k) => {
          if (k > 0 && v <= (st.schedule[k - 1] ?? 0))
            err(`${path}/schedule/${k}`, 'schedule must increase', 'PLAYBOOK_INVALID');
        });
      } else if (st.kind === 'dsr-shed') {
        st.targets?.forEach((t, k) => edgeRef(`${path}/targets/${k}`, t));
      } else if (st.kind === 'communities') {
        if (st.transit && !transitNames.has(st.transit))
          err(`${path}/transit`, `unknown transit "${st.transit}"`, 'REFERENCE_UNKNOWN');
        const known = new Set(
          cfg.transits?.flatMap((t) => (!st.transit || t.name === st.transit ? Object.keys(t.intents) : [])),
        );
        st.intents.forEach((intent, k) => {
          if (!known.has(intent))
            err(`${path}/intents/${k}`, `no transit defines intent "${intent}"`, 'REFERENCE_UNKNOWN');
        });
      } else if (st.kind === 'withdraw-unicast') {
        st.prefixes?.forEach((pf, k) => {
          const prob = cidrProblem(pf);
          if (prob) return err(`${path}/prefixes/${k}`, prob, 'PLAYBOOK_INVALID');
          const declared = byText.get(parseCidr(pf).text);
          const target = declared === undefined ? undefined : cfg.prefixes?.[declared];
          if (!target) err(`${path}/prefixes/${k}`, `prefix ${pf} is not declared`, 'REFERENCE_UNKNOWN');
          else if (target.kind !== 'unicast')
            err(
              `${path}/prefixes/${k}`,
              `${pf} is an anycast supernet: only unicast prefixes are withdrawn`,
              'PLAYBOOK_INVALID',
            );
        });
      }
    });
  });
  return errors;
}

/**
 * The domain rules' errors of a document that also has schema errors, so that both are
 * listed at once: the rules run on the parts the schema accepted (a rule that trips over
 * a malformed part is skipped; errors under a path the schema already reported are dropped).
 */
function ruleErrorsBeside(schema: FieldError[], value: unknown): FieldError[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const objectOf = (p: string) => p.split('/').slice(0, 3).join('/');
  const broken = new Set(schema.map((e) => objectOf(e.path)));
  // The rules run on the objects the schema accepted; each list is filtered, and its
  // indexes are mapped back to the file's.
  const doc: Record<string, unknown> = {};
  const indexes: Record<string, number[]> = {};
  const brokenNames = new Set<string>();
  for (const [k, v] of Object.entries(value)) {
    if (!Array.isArray(v)) {
      if (!broken.has(`/${k}`) && ![...broken].some((b) => b.startsWith(`/${k}/`))) doc[k] = v;
      continue;
    }
    indexes[k] = [];
    doc[k] = v.filter((item, i) => {
      if (!broken.has(`/${k}/${i}`)) {
        indexes[k]?.push(i);
        return true;
      }
      const n = (item as { name?: unknown; cidr?: unknown } | null)?.name ?? (item as { cidr?: unknown } | null)?.cidr;
      if (typeof n === 'string') brokenNames.add(n);
      return false;
    });
  }
  let rules: FieldError[];
  try {
    rules = domainErrors(doc as CatchmentConfig);
  } catch {
    return [];
  }
  return rules
    .filter((e) => e.code !== 'REFERENCE_UNKNOWN' || ![...brokenNames].some((n) => e.message.includes(`"${n}"`)))
    .map((e) => {
      const [, kind, i, ...rest] = e.path.split('/');
      const original = kind !== undefined && i !== undefined ? indexes[kind]?.[Number(i)] : undefined;
      return original === undefined ? e : { ...e, path: ['', kind, original, ...rest].join('/') };
    });
}

/** Schema, then domain rules: every error of the file at once, by path. */
export function validateConfig(value: unknown): CatchmentConfig {
  const schema = schemaErrors(CatchmentConfig, value ?? {});
  const errors =
    schema.length > 0 ? [...schema, ...ruleErrorsBeside(schema, value)] : domainErrors(value as CatchmentConfig);
  if (errors.length > 0) {
    throw new CatchmentError('CONFIG_INVALID', `configuration has ${errors.length} error(s)`, { errors });
  }
  return (value ?? {}) as CatchmentConfig;
}

export function parseConfigText(text: string, source = 'configuration'): CatchmentConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new CatchmentError('CONFIG_UNREADABLE', `${source} is not valid YAML`, {
      errors: doc.errors.map((e) => ({
        path: `line ${e.linePos?.[0]?.line ?? '?'}`,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    });
  }
  return validateConfig(doc.toJS());
}

export async function loadConfigFile(path: string): Promise<CatchmentConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new CatchmentError('CONFIG_UNREADABLE', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseConfigText(text, path);
}

export function configToYaml(cfg: CatchmentConfig): string {
  return stringify(cfg, { lineWidth: 0 });
}

export { canonicalIp };
