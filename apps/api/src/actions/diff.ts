import { canonicalJson, type SnapshotBody } from '@catchment/core';

/** One changed value between two snapshot bodies, at a path of names (not indexes). */
export interface Change {
  path: string;
  before: unknown;
  after: unknown;
}

/** How the lists of a snapshot body are keyed, so a diff says `/edges/fra/shiftPercent`. */
const KEYS: Record<string, (item: Record<string, unknown>) => string> = {
  zones: (i) => String(i.name),
  edges: (i) => String(i.name),
  services: (i) => String(i.name),
  policies: (i) => String(i.name),
  transits: (i) => String(i.name),
  prefixes: (i) => String(i.cidr),
  announcements: (i) => `${i.edge} ${i.prefix}`,
  dsr: (i) => String(i.edge),
};

// An object only one side has (a removed edge) is a difference, not a value to serialise.
const same = (a: unknown, b: unknown) =>
  a === b || (a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function walk(path: string, a: unknown, b: unknown, key: string | undefined, out: Change[]): void {
  if (same(a, b)) return;
  const keyed = key ? KEYS[key] : undefined;
  if (keyed && Array.isArray(a) && Array.isArray(b)) {
    const before = new Map((a as Record<string, unknown>[]).map((i) => [keyed(i), i]));
    const after = new Map((b as Record<string, unknown>[]).map((i) => [keyed(i), i]));
    for (const k of new Set([...before.keys(), ...after.keys()])) {
      walk(`${path}/${k}`, before.get(k), after.get(k), undefined, out);
    }
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(`${path}/${k}`, a[k], b[k], k, out);
    return;
  }
  out.push({ path: path || '/', before: a ?? null, after: b ?? null });
}

/** Every difference between two bodies, in a stable order. */
export function diffBodies(before: SnapshotBody, after: SnapshotBody): Change[] {
  const out: Change[] = [];
  walk('', before, after, undefined, out);
  return out;
}
