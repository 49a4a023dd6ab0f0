import { parseZone } from 'dnsz';
import { CliError } from '../client/errors.ts';

// RFC 1035 master files. The lexing (comments, quotes, parentheses over several lines,
// owners inherited by indented lines, $ORIGIN and $TTL) is dnsz's: measured against a
// BIND-style zone it handled all of these, where dns-zonefile and zone-file broke
// multi-line TXT, owner inheritance and several $ORIGINs. What dnsz leaves to its caller
// is done here: $INCLUDE is refused (a file must not read others), names inside record
// data are qualified with the origin in force where they were written (dnsz keeps them
// relative), lines it cannot read are reported instead of dropped, and types Catchment
// does not serve are errors (or skipped with --skip-unsupported).

export const SUPPORTED = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV', 'CAA', 'NS', 'PTR'];
/** Which fields of the record data are domain names (as dnsz's own table, for our types). */
const NAME_FIELDS: Record<string, number[]> = { CNAME: [0], NS: [0], PTR: [0], MX: [1], SRV: [3] };

export interface ZoneRecord {
  name: string;
  type: string;
  ttl?: number;
  value: string;
}

export interface ImportedZone {
  name: string;
  ttl: number;
  soa: {
    mname: string;
    rname: string;
    serial: number;
    refresh: number;
    retry: number;
    expire: number;
    minimum: number;
  };
  ns: string[];
  records: ZoneRecord[];
}

const strip = (n: string) => n.toLowerCase().replace(/\.$/, '');
const absolute = (name: string, origin: string) =>
  name === '@' ? `${origin}.` : name.endsWith('.') ? name.toLowerCase() : `${name.toLowerCase()}.${origin}.`;

/** Splits the text at each $ORIGIN, so that every part is parsed knowing its origin; $TTL carries over. */
function segments(text: string, origin: string | undefined) {
  const out: { origin: string | undefined; text: string; firstLine: number }[] = [];
  let cur = { origin, lines: [] as string[], firstLine: 1 };
  const lines = text.split(/\r?\n/);
  let depth = 0;
  lines.forEach((line, i) => {
    const directive = depth === 0 ? /^\$(ORIGIN|INCLUDE|TTL|GENERATE)\b\s*(\S*)/i.exec(line) : null;
    if (directive) {
      const d = directive[1]?.toUpperCase();
      if (d === 'INCLUDE')
        throw new CliError('ZONE_INVALID', `line ${i + 1}: $INCLUDE is not supported: inline the included file`);
      if (d === 'GENERATE')
        throw new CliError('ZONE_INVALID', `line ${i + 1}: $GENERATE is not supported (a BIND extension)`);
      if (d === 'ORIGIN') {
        const o = directive[2] ?? '';
        if (!o.endsWith('.'))
          throw new CliError('ZONE_INVALID', `line ${i + 1}: $ORIGIN ${o} must be absolute (end with a dot)`);
        out.push({ origin: cur.origin, text: cur.lines.join('\n'), firstLine: cur.firstLine });
        cur = { origin: strip(o), lines: [], firstLine: i + 2 };
        return;
      }
    }
    // Parentheses outside quotes and comments: a directive inside a record is no directive.
    const code = line.replace(/"(?:[^"\\]|\\.)*"/g, '').replace(/;.*$/, '');
    depth += (code.match(/\(/g) ?? []).length - (code.match(/\)/g) ?? []).length;
    cur.lines.push(line);
  });
  out.push({ origin: cur.origin, text: cur.lines.join('\n'), firstLine: cur.firstLine });
  return out;
}

/** Record lines of a part, as dnsz joins them (so the count of what it read can be checked). */
function recordLineCount(text: string): number {
  let n = 0;
  let depth = 0;
  for (const raw of text.split(/\r?\n/)) {
    const code = raw
      .replace(/"(?:[^"\\]|\\.)*"/g, '""')
      .replace(/;.*$/, '')
      .trim();
    if (depth === 0 && code && !code.startsWith('$')) n++;
    depth += (code.match(/\(/g) ?? []).length - (code.match(/\)/g) ?? []).length;
  }
  return n;
}

/** A zone file as the zone of a configuration (names relative to the zone, `@` for its apex). */
export function parseZoneFile(
  text: string,
  opts: { origin?: string; skipUnsupported?: boolean } = {},
): { zone: ImportedZone; skipped: string[] } {
  const errors: string[] = [];
  const skipped: string[] = [];
  let ttl: number | undefined;
  let zoneName: string | undefined = opts.origin ? strip(opts.origin) : undefined;
  const all: { name: string; ttl: number; type: string; cls: string; content: string; origin: string }[] = [];
  for (const part of segments(text, zoneName)) {
    if (!part.text.trim()) continue;
    const prefix = `${ttl !== undefined ? `$TTL ${ttl}\n` : ''}`;
    const parsed = parseZone(prefix + part.text, {
      ...(part.origin ? { replaceOrigin: part.origin } : {}),
      defaultTTL: -1,
    });
    if (parsed.ttl !== undefined) ttl = parsed.ttl;
    const expected = recordLineCount(part.text);
    if (parsed.records.length !== expected)
      errors.push(
        `lines ${part.firstLine}-${part.firstLine + part.text.split('\n').length - 1}: ${expected - parsed.records.length} record line(s) could not be read`,
      );
    const origin = part.origin;
    for (const r of parsed.records) {
      if (!origin) {
        errors.push(`record ${r.name} ${r.type} comes before any $ORIGIN (give --origin)`);
        continue;
      }
      zoneName ??= origin;
      all.push({ name: r.name, ttl: r.ttl, type: r.type, cls: r.class, content: r.content, origin });
    }
  }
  const soas = all.filter((r) => r.type === 'SOA');
  if (!zoneName) throw new CliError('ZONE_INVALID', 'the file has no $ORIGIN and no record; give --origin');
  const apex = zoneName;
  if (soas.length !== 1 || soas[0]?.name !== apex)
    errors.push(
      `expected exactly one SOA record, at the apex ${apex} (found ${soas.length}${soas[0] ? ` at ${soas[0].name}` : ''})`,
    );
  const soaFields = (soas[0]?.content ?? '').split(/\s+/);
  const num = (s: string | undefined) => {
    const m = /^(\d+)([smhdw]?)$/i.exec(s ?? '');
    const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[(m?.[2] ?? '').toLowerCase()] ?? 1;
    return m ? Number(m[1]) * unit : Number.NaN;
  };
  const [mname = '', rname = '', ...times] = soaFields;
  const [serial, refresh, retry, expire, minimum] = times.map(num);
  if (soas[0] && [serial, refresh, retry, expire, minimum].some((n) => n === undefined || Number.isNaN(n)))
    errors.push(`SOA "${soas[0].content}" must have mname, rname and five numbers`);
  const zoneTtl = ttl ?? (minimum !== undefined && !Number.isNaN(minimum) ? minimum : 3600);
  const ns: string[] = [];
  const records: ZoneRecord[] = [];
  for (const r of all) {
    if (r.type === 'SOA') continue;
    // dnsz reads `www IN A` (no data) as type "IN" with data "A".
    if (['IN', 'CH', 'HS', 'CS', 'ANY'].includes(r.type)) {
      errors.push(`${r.name}: cannot read the record "${r.type} ${r.content}" (type or data missing)`);
      continue;
    }
    if (r.cls !== 'IN') {
      errors.push(`${r.name} ${r.type}: class ${r.cls} is not supported (IN only)`);
      continue;
    }
    if (r.name !== apex && !r.name.endsWith(`.${apex}`)) {
      errors.push(`${r.name} ${r.type}: outside the zone ${apex}`);
      continue;
    }
    if (!SUPPORTED.includes(r.type)) {
      if (opts.skipUnsupported) skipped.push(`${r.name} ${r.type}`);
      else errors.push(`${r.name} ${r.type}: type ${r.type} is not served by Catchment (--skip-unsupported skips it)`);
      continue;
    }
    const fields = r.content.split(/\s+/);
    for (const i of NAME_FIELDS[r.type] ?? []) {
      const f = fields[i];
      if (f !== undefined && !(r.type === 'SRV' && f === '.')) fields[i] = absolute(f, r.origin);
    }
    const value = NAME_FIELDS[r.type] ? fields.join(' ') : r.content;
    const t = r.ttl >= 0 ? r.ttl : zoneTtl;
    if (r.type === 'NS' && r.name === apex) {
      ns.push(value);
      continue;
    }
    const name = r.name === apex ? '@' : r.name.slice(0, -(apex.length + 1));
    records.push({ name, type: r.type, ...(t === zoneTtl ? {} : { ttl: t }), value });
  }
  if (ns.length === 0) errors.push(`no NS record at the apex ${apex}`);
  if (errors.length > 0)
    throw new CliError('ZONE_INVALID', `the zone file has ${errors.length} error(s)`, { lines: errors });
  return {
    zone: {
      name: apex,
      ttl: zoneTtl,
      soa: {
        mname: absolute(mname, apex),
        rname: absolute(rname, apex),
        serial: serial as number,
        refresh: refresh as number,
        retry: retry as number,
        expire: expire as number,
        minimum: minimum as number,
      },
      ns,
      records,
    },
    skipped,
  };
}

/** A zone of the configuration as an RFC 1035 master file (absolute names in record data). */
export function formatZoneFile(zone: ImportedZone): string {
  const origin = strip(zone.name);
  const dot = (n: string) => (n.endsWith('.') ? n : `${n}.`);
  const owner = (n: string) => (n === '@' || strip(n) === origin ? '@' : n.endsWith('.') ? n : n);
  const s = zone.soa;
  const lines = [
    `; zone ${origin}, written by catchment zone export`,
    `$ORIGIN ${origin}.`,
    `$TTL ${zone.ttl ?? 3600}`,
    `@\tIN\tSOA\t${dot(s.mname)} ${dot(s.rname)} (`,
    `\t\t\t${s.serial}\t; serial`,
    `\t\t\t${s.refresh}\t; refresh`,
    `\t\t\t${s.retry}\t; retry`,
    `\t\t\t${s.expire}\t; expire`,
    `\t\t\t${s.minimum} )\t; minimum`,
    ...zone.ns.map((n) => `@\tIN\tNS\t${dot(n)}`),
    ...(zone.records ?? []).map(
      (r) => `${owner(r.name)}\t${r.ttl !== undefined ? `${r.ttl}\t` : ''}IN\t${r.type}\t${r.value}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
