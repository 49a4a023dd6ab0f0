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
