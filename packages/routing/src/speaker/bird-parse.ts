import { type Community, normaliseCommunities } from '../community.ts';
import { type Prefix, parsePrefix } from '../prefix.ts';
import type { BirdLine } from './bird-control.ts';
import type { SessionState } from './types.ts';

/** One route of `show route ... all`. */
export interface BirdRoute {
  table: string;
  prefix: Prefix;
  protocol: string;
  /** When the route last changed, as BIRD prints it (e.g. `01:32:17.698`). */
  since: string;
  primary: boolean;
  communities: Community[];
  asPath: number[];
  from: string | null;
}

function parseCommunityList(text: string, large: boolean): Community[] {
  const out: Community[] = [];
  for (const m of text.matchAll(/\(([^)]*)\)/g)) {
    const n = (m[1] ?? '').split(',').map((s) => Number(s.trim()));
    if (large && n.length === 3) out.push({ kind: 'large', global: n[0]!, local1: n[1]!, local2: n[2]! });
    else if (!large && n.length === 2) out.push({ kind: 'standard', asn: n[0]!, value: n[1]! });
  }
  return out;
}

/** Parses the text of `show route [...] all` (BIRD 2). */
export function parseBirdRoutes(lines: BirdLine[]): BirdRoute[] {
  const routes: BirdRoute[] = [];
  let table = '';
  let net: Prefix | undefined;
  let cur: BirdRoute | undefined;
  for (const { text } of lines) {
    const t = /^Table (\S+):$/.exec(text);
    if (t) {
      table = t[1] ?? '';
      continue;
    }
    const head = /^(\S+\/\d+)\s+(.*)$/.exec(text);
    const more = !head && /^\s+\S.*\[(\S+)/.test(text) && !text.startsWith('\t');
    if (head || more) {
      if (head) net = parsePrefix(head[1] ?? '', { allowHostBits: true });
      const rest = head ? (head[2] ?? '') : text;
      const proto = /\[(\S+)(?: ([^\]\s]+))?/.exec(rest);
      const from = / from (\S+)\]/.exec(rest);
      if (!net || !proto) continue;
      cur = {
        table,
        prefix: net,
        protocol: proto[1] ?? '',
        since: proto[2] ?? '',
        primary: /\] \* /.test(rest) || /\]\s+\*\s*\(/.test(rest),
        communities: [],
        asPath: [],
        from: from?.[1] ?? null,
      };
      routes.push(cur);
      continue;
    }
    if (!cur) continue;
    const attr = /^\s*BGP\.(community|large_community|as_path):\s*(.*)$/.exec(text);
    if (!attr) continue;
    if (attr[1] === 'as_path') cur.asPath = (attr[2] ?? '').split(/\s+/).filter(Boolean).map(Number);
    else
      cur.communities = normaliseCommunities([
        ...cur.communities,
        ...parseCommunityList(attr[2] ?? '', attr[1] === 'large_community'),
      ]);
  }
  return routes;
}

/** Parses `show protocols` into BGP session states (other protocols are left out). */
export function parseBirdProtocols(lines: BirdLine[]): SessionState[] {
  const out: SessionState[] = [];
  for (const { text } of lines) {
    const tok = text.trim().split(/\s+/);
    if (tok[1] !== 'BGP') continue;
    // Since is one token (time) or two (date and time), depending on BIRD's timeformat.
    const infoAt = /^\d{1,2}:\d{2}/.test(tok[5] ?? '') ? 6 : 5;
    const info = tok.slice(infoAt).join(' ');
    const state = tok[infoAt] ?? tok[3] ?? '';
    out.push({ name: tok[0] ?? '', established: state === 'Established', state, info });
  }
  return out;
}
