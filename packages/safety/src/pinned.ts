import { type Cidr, cidrContains, edgeUsable, parseCidr } from '@catchment/core';
import type { SafetyWorld } from './types.ts';
import { edgeOf } from './world.ts';

/**
 * The client blocks whose answers an active pin holds on `edge` (packages/geo pins.ts): a
 * DNS shift of the edge does not move them. Read from what the world has cheaply, the DNS
 * servers' answers per client block and the snapshot's pins: a block is held when the most
 * specific CIDR pin for every service that contains it (the newest at equal length) pins
 * it to `edge`, and that edge is usable (a drained edge's pins are suspended).
 *
 * Left movable, because the world cannot tell what they hold: country pins (which blocks
 * are in a country is GeoIP's, not in the world), pins of one service (the answer counts
 * are per block, not per service), and pins narrower than a reported block. Counting them
 * as moving over-estimates the load the targets receive, the safe side for the capacity rule.
 */
export function pinnedBlocks(world: SafetyWorld, edge: string): Set<string> {
  const held = new Set<string>();
  const blocks = world.answers?.get(edge);
  const self = edgeOf(world, edge);
  if (!blocks || !self || !edgeUsable(self)) return held;
  const pins: { edge: string; action: number; cidr: Cidr }[] = [];
  for (const p of world.body?.pins ?? []) {
    const target = edgeOf(world, p.edge);
    if (p.cidr === null || p.name !== null || !target || !edgeUsable(target)) continue;
    pins.push({ edge: p.edge, action: p.action, cidr: parseCidr(p.cidr) });
  }
  if (!pins.some((p) => p.edge === edge)) return held;
  for (const block of blocks.keys()) {
    let cidr: Cidr;
    try {
      cidr = parseCidr(block);
    } catch {
      continue;
    }
    let best: (typeof pins)[number] | undefined;
    for (const p of pins) {
      if (!cidrContains(p.cidr, cidr)) continue;
      if (!best || p.cidr.length > best.cidr.length || (p.cidr.length === best.cidr.length && p.action > best.action))
        best = p;
    }
    if (best?.edge === edge) held.add(block);
  }
  return held;
}

/** The share of the edge's DNS answers in `blocks` (0 when it has no answer counts). */
export function answerShare(world: SafetyWorld, edge: string, blocks: ReadonlySet<string>): number {
  const counts = world.answers?.get(edge);
  if (!counts || blocks.size === 0) return 0;
  let total = 0;
  let part = 0;
  for (const [block, n] of counts) {
    total += n;
    if (blocks.has(block)) part += n;
  }
  return total > 0 ? part / total : 0;
}
