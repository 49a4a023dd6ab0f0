import { canonicalJson, type NormalConfig } from '@catchment/core';

/** The object types of a configuration, in the order they are created. */
export const CONFIG_KINDS = [
  'zones',
  'edges',
  'transits',
  'policies',
  'prefixes',
  'services',
  'slos',
  'playbooks',
] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];

export interface PlanChange {
  kind: ConfigKind | 'settings';
  key: string;
  op: 'create' | 'update' | 'delete';
  before?: unknown;
  after?: unknown;
}

const keyOf = (kind: ConfigKind, item: { name?: string; cidr?: string }) =>
  (kind === 'prefixes' ? item.cidr : item.name) ?? '';

/** What turns `current` into `desired`, object by object (declarative, like octoDNS). */
export function diffConfig(current: NormalConfig, desired: NormalConfig): PlanChange[] {
  const changes: PlanChange[] = [];
  if (canonicalJson(current.settings) !== canonicalJson(desired.settings)) {
    changes.push({
      kind: 'settings',
      key: 'settings',
      op: 'update',
      before: current.settings,
      after: desired.settings,
    });
  }
  for (const kind of CONFIG_KINDS) {
    const before = new Map((current[kind] as { name?: string; cidr?: string }[]).map((o) => [keyOf(kind, o), o]));
    const after = new Map((desired[kind] as { name?: string; cidr?: string }[]).map((o) => [keyOf(kind, o), o]));
    for (const [key, obj] of after) {
      const old = before.get(key);
      if (!old) changes.push({ kind, key, op: 'create', after: obj });
      else if (canonicalJson(old) !== canonicalJson(obj))
        changes.push({ kind, key, op: 'update', before: old, after: obj });
    }
    for (const [key, obj] of before) {
      if (!after.has(key)) changes.push({ kind, key, op: 'delete', before: obj });
    }
  }
  return changes;
}

/** One changed field of an updated object: a path inside it (`capacity/rps`), before → after. */
export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

/** canonicalJson that also takes a missing value (a field only one side has). */
const text = (v: unknown) => (v === undefined ? '\u0000absent' : canonicalJson(v));
const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function walkFields(path: string, a: unknown, b: unknown, out: FieldChange[]): void {
  if (text(a) === text(b)) return;
  if (isPlain(a) && isPlain(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      walkFields(path ? `${path}/${k}` : k, a[k], b[k], out);
    return;
  }
  // Lists of objects (zone records, policy rules, playbook steps) as sets: what left, what came.
  if (Array.isArray(a) && Array.isArray(b) && [...a, ...b].some(isPlain)) {
    const left = b.map((x) => text(x));
    const right = a.map((x) => text(x));
    const gone = a.filter((x) => {
      const i = left.indexOf(text(x));
      if (i >= 0) left.splice(i, 1);
      return i < 0;
    });
    const came = b.filter((x) => {
      const i = right.indexOf(text(x));
      if (i >= 0) right.splice(i, 1);
      return i < 0;
    });
    for (const x of gone) out.push({ path: `${path}[-]`, before: x });
    for (const x of came) out.push({ path: `${path}[+]`, after: x });
    return;
  }
  out.push({ path: path || '/', ...(a === undefined ? {} : { before: a }), ...(b === undefined ? {} : { after: b }) });
}

/** The field-level changes of one updated object (or of the settings). */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  walkFields('', before, after, out);
  return out;
}
