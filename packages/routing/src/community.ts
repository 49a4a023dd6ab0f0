/**
 * BGP communities: RFC 1997 standard (16:16 bits), RFC 8092 large (32:32:32 bits) and
 * the IANA well-known names. Text forms: `64500:100`, `64500:70:150`, `GRACEFUL_SHUTDOWN`.
 * A well-known community is a standard one (65535:x); it keeps its name for display.
 */
export interface StandardCommunity {
  readonly kind: 'standard';
  readonly asn: number;
  readonly value: number;
}

export interface LargeCommunity {
  readonly kind: 'large';
  readonly global: number;
  readonly local1: number;
  readonly local2: number;
}

export type Community = StandardCommunity | LargeCommunity;

/** IANA "BGP Well-known Communities" in the 65535 (0xFFFF) space. */
export const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, number>> = {
  GRACEFUL_SHUTDOWN: 0x0000, // RFC 8326
  ACCEPT_OWN: 0x0001, // RFC 7611
  LLGR_STALE: 0x0006, // RFC 9494
  NO_LLGR: 0x0007, // RFC 9494
  BLACKHOLE: 0x029a, // RFC 7999 (65535:666)
  NO_EXPORT: 0xff01, // RFC 1997
  NO_ADVERTISE: 0xff02, // RFC 1997
  NO_EXPORT_SUBCONFED: 0xff03, // RFC 1997
  NO_PEER: 0xff04, // RFC 3765
};

const NAME_BY_VALUE = new Map(Object.entries(WELL_KNOWN_COMMUNITIES).map(([n, v]) => [v, n]));

export const GRACEFUL_SHUTDOWN: StandardCommunity = { kind: 'standard', asn: 0xffff, value: 0 };

const U16 = 0xffff;
const U32 = 0xffffffff;

/** Why `text` is not a community, or undefined when it is. */
export function communityTextProblem(text: string): string | undefined {
  if (/^[A-Z_]+$/.test(text)) {
    return text in WELL_KNOWN_COMMUNITIES ? undefined : `unknown well-known community "${text}"`;
  }
  const parts = text.split(':');
  if (parts.length !== 2 && parts.length !== 3) return 'must be a:b (standard), a:b:c (large) or a well-known name';
  const limit = parts.length === 2 ? U16 : U32;
  for (const p of parts) {
    if (!/^\d{1,10}$/.test(p) || Number(p) > limit) {
      return `"${p}" is out of range (${parts.length === 2 ? '16' : '32'}-bit parts)`;
    }
  }
  return undefined;
}

export function parseCommunity(text: string): Community {
  const problem = communityTextProblem(text);
  if (problem) throw new Error(`invalid community "${text}": ${problem}`);
  const known = WELL_KNOWN_COMMUNITIES[text];
  if (known !== undefined) return { kind: 'standard', asn: U16, value: known };
  const n = text.split(':').map(Number) as [number, number, number?];
  if (n.length === 2) return { kind: 'standard', asn: n[0], value: n[1] };
  return { kind: 'large', global: n[0], local1: n[1], local2: n[2] ?? 0 };
}

/** Canonical text: the well-known name when there is one, else numbers. */
export function formatCommunity(c: Community): string {
  if (c.kind === 'large') return `${c.global}:${c.local1}:${c.local2}`;
  if (c.asn === U16) {
    const name = NAME_BY_VALUE.get(c.value);
    if (name) return name;
  }
  return `${c.asn}:${c.value}`;
}

export function isWellKnown(c: Community): boolean {
  return c.kind === 'standard' && c.asn === U16 && NAME_BY_VALUE.has(c.value);
}

export function sameCommunity(a: Community, b: Community): boolean {
  return formatCommunity(a) === formatCommunity(b);
}

/** Standard communities first, then large; numeric order inside each: the order BIRD shows them. */
export function compareCommunities(a: Community, b: Community): number {
  if (a.kind !== b.kind) return a.kind === 'standard' ? -1 : 1;
  if (a.kind === 'standard' && b.kind === 'standard') return a.asn - b.asn || a.value - b.value;
  const x = a as LargeCommunity;
  const y = b as LargeCommunity;
  return x.global - y.global || x.local1 - y.local1 || x.local2 - y.local2;
}

/** Sorted, without duplicates: communities are a set on the wire. */
export function normaliseCommunities(list: Iterable<Community | string>): Community[] {
  const byText = new Map<string, Community>();
  for (const item of list) {
    const c = typeof item === 'string' ? parseCommunity(item) : item;
    byText.set(formatCommunity(c), c);
  }
  return [...byText.values()].sort(compareCommunities);
}

export function communitySetKey(list: Community[]): string {
  return normaliseCommunities(list).map(formatCommunity).join(' ');
}
