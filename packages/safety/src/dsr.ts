import type { Change, Refusal, SafetyWorld } from './types.ts';
import { edgeOf } from './world.ts';

function targetNames(params: Record<string, unknown>): string[] {
  const t = params.targets;
  if (!Array.isArray(t)) return [];
  return t.map((x) => (typeof x === 'string' ? x : String((x as { edge?: unknown }).edge)));
}

/**
 * Safety rule 6, connections survive: DSR shedding only ever picks new flows, so a
 * change may lower the fraction but may not remove a target that already receives
 * redirected flows (the flow table's reach would shrink and those connections
 * break). Every target needs a DSR address to encapsulate to.
 */
export function checkConnectionSafety(world: SafetyWorld, change: Change): Refusal[] {
  if (change.kind !== 'dsr-shed') return [];
  const out: Refusal[] = [];
  const next = targetNames(change.params);
  if (change.replaces && change.direction === 'shed') {
    const dropped = targetNames(change.replaces.params).filter((t) => !next.includes(t));
    if (dropped.length > 0) {
      out.push({
        rule: 'connection-safety',
        reason: `the change drops DSR targets ${dropped.join(', ')} that carry redirected connections`,
        details: { dropped },
      });
    }
  }
  if (change.direction === 'shed') {
    for (const t of next) {
      const e = edgeOf(world, t);
      if (!e?.dsrAddress) {
        out.push({ rule: 'connection-safety', reason: `DSR target ${t} has no DSR address`, details: { target: t } });
      }
    }
  }
  return out;
}
