import type { ZoneConfig } from './config-schema.ts';
import type { FieldError } from './errors.ts';
import { ipFamily } from './net.ts';

/**
 * Presentation-format checks of record data (RFC 1035 §5.1 and each type's RFC), so a
 * value the DNS server could not encode is refused when it is written (API, import),
 * never skipped silently at answer time. Names inside record data may be relative to
 * the zone or absolute (final dot), as in a zone file.
 */
const LABEL = /^(\*|[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)$/;

function nameProblem(text: string, what: string, allowRoot = false): string | undefined {
  if (text === '.' && allowRoot) return undefined;
  if (text === '@') return undefined;
  const bare = text.endsWith('.') ? text.slice(0, -1) : text;
  if (bare.length === 0 || bare.length > 253) return `${what} "${text}" is not a domain name (1-253 characters)`;
  for (const label of bare.split('.')) {
    if (!LABEL.test(label) || label === '*')
      return `${what} "${text}" is not a domain name (labels of letters, digits, - and _, at most 63 each)`;
  }
  return undefined;
}

function u16(text: string | undefined, what: string, max = 65535): string | undefined {
  if (text === undefined || !/^[0-9]{1,5}$/.test(text) || Number(text) > max) return `${what} must be 0-${max}`;
  return undefined;
}

/** Character-strings: one unquoted word-run, or a sequence of "quoted" strings (\" and \DDD escapes). */
function stringsProblem(text: string, what: string): string | undefined {
  const v = text.trim();
  if (!v.startsWith('"')) return v.includes('"') ? `${what}: a quote inside unquoted text` : undefined;
  let i = 0;
  while (i < v.length) {
    while (v[i] === ' ' || v[i] === '\t') i++;
    if (i >= v.length) break;
    if (v[i] !== '"') return `${what}: text outside quotes at character ${i + 1}`;
    i++;
    let closed = false;
    while (i < v.length) {
      const c = v[i];
      if (c === '"') {
        closed = true;
        i++;
        break;
      }
      if (c === '\\') {
        const d = /^[0-9]{3}/.exec(v.slice(i + 1));
        if (d && Number(d[0]) > 255) return `${what}: escape \\${d[0]} is not a byte (000-255)`;
        i += d ? 4 : 2;
        continue;
      }
      i++;
    }
    if (!closed) return `${what}: unterminated quoted string`;
  }
  return undefined;
}

/** Why `value` is not valid record data of `type` in presentation format, or undefined. */
export function recordValueProblem(type: string, value: string): string | undefined {
  const v = value.trim();
  if (v.length === 0) return 'must not be empty';
  const fields = v.split(/\s+/);
  switch (type) {
    case 'A':
      return ipFamily(v) === 4 && !v.includes(':') ? undefined : `"${v}" is not an IPv4 address`;
    case 'AAAA':
      return ipFamily(v) === 6 ? undefined : `"${v}" is not an IPv6 address`;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return fields.length === 1 ? nameProblem(v, `${type} target`) : `${type} data is one domain name`;
    case 'MX':
      if (fields.length !== 2) return 'MX data is "<preference> <exchange>", e.g. "10 mail.example.net."';
      return u16(fields[0], 'MX preference') ?? nameProblem(fields[1] as string, 'MX exchange', true);
    case 'SRV':
      if (fields.length !== 4) return 'SRV data is "<priority> <weight> <port> <target>", e.g. "10 5 443 www"';
      return (
        u16(fields[0], 'SRV priority') ??
        u16(fields[1], 'SRV weight') ??
        u16(fields[2], 'SRV port') ??
        nameProblem(fields[3] as string, 'SRV target', true)
      );
    case 'TXT':
      return stringsProblem(v, 'TXT data');
    case 'CAA': {
      const m = /^(\S+)\s+(\S+)\s+(.+)$/.exec(v);
      if (!m) return 'CAA data is "<flags> <tag> <value>", e.g. \'0 issue "letsencrypt.org"\'';
      if (!/^[A-Za-z0-9]{1,15}$/.test(m[2] as string)) return `CAA tag "${m[2]}" must be 1-15 letters or digits`;
      return u16(m[1], 'CAA flags', 255) ?? stringsProblem(m[3] as string, 'CAA value');
    }
    default:
      return `record type ${type} is not supported`;
  }
}

/**
 * Every record rule of one zone, with paths relative to the zone: presentation format per
 * type, owner inside the zone, and CNAME alone at its name and never at the apex
 * (RFC 1034 §3.6.2, RFC 2181 §10.1). `normalise` is config.ts's normaliseName.
 */
export function zoneRecordErrors(
  zone: ZoneConfig,
  normalise: (name: string, origin?: string) => string,
  steered: ReadonlySet<string> = new Set(),
): FieldError[] {
  const errors: FieldError[] = [];
  const origin = normalise(zone.name);
  const byOwner = new Map<string, { type: string; index: number }[]>();
  zone.records?.forEach((r, j) => {
    const path = `/records/${j}`;
    const owner = normalise(r.name, origin);
    if (owner !== origin && !owner.endsWith(`.${origin}`)) {
      errors.push({
        path: `${path}/name`,
        message: `"${r.name}" is not inside zone "${origin}"`,
        code: 'NAME_OUT_OF_ZONE',
      });
      return;
    }
    const problem = recordValueProblem(r.type, r.value);
    if (problem) errors.push({ path: `${path}/value`, message: problem, code: 'RECORD_INVALID' });
    const list = byOwner.get(owner) ?? [];
    list.push({ type: r.type, index: j });
    byOwner.set(owner, list);
  });
  for (const [owner, list] of byOwner) {
    const cname = list.find((x) => x.type === 'CNAME');
    if (!cname) continue;
    const path = `/records/${cname.index}/type`;
    if (owner === origin)
      errors.push({
        path,
        message: `a CNAME cannot be at the zone apex "${origin}" (SOA and NS are there)`,
        code: 'CNAME_CONFLICT',
      });
    else if (steered.has(owner))
      errors.push({
        path,
        message: `a CNAME cannot be at "${owner}": it is a steered service name`,
        code: 'CNAME_CONFLICT',
      });
    for (const other of list) {
      if (other === cname) continue;
      // The later record of the pair is the one reported: that is the one being added.
      const at = Math.max(other.index, cname.index);
      errors.push({
        path: `/records/${at}/type`,
        message: `a CNAME at "${owner}" cannot coexist with other data (${other.type === 'CNAME' ? 'another CNAME' : `a ${other.type} record`})`,
        code: 'CNAME_CONFLICT',
      });
    }
  }
  return errors;
}
