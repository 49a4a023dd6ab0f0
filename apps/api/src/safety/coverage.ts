import type { SnapshotBody } from '@catchment/core';
import type { Refusal } from './index.ts';
import { announcedBy, coveringSupernets, hasHeadroom } from './shed.ts';

/**
 * Safety rule 2, coverage before withdrawal: a unicast prefix that this change
 * withdraws must stay covered by a supernet announced by at least K other edges that
 * are usable and have headroom.
 */
export function checkCoverage(before: SnapshotBody, after: SnapshotBody): Refusal | undefined {
  const k = after.settings.coverageMinAnnouncers;
  for (const a of after.announcements) {
    if (a.state !== 'withdrawn') continue;
    const prefix = after.prefixes.find((p) => p.cidr === a.prefix);
    if (prefix?.kind !== 'unicast') continue;
    const was = before.announcements.find((b) => b.edge === a.edge && b.prefix === a.prefix);
    if (was?.state !== 'announced') continue;
    const supernets = prefix.supernet ? [prefix.supernet] : coveringSupernets(after, a.prefix);
    let best = { supernet: supernets[0] ?? null, healthy: [] as string[] };
    for (const s of supernets) {
      const healthy = announcedBy(after, s).filter((edge) => {
        const e = after.edges.find((x) => x.name === edge);
        return edge !== a.edge && e !== undefined && hasHeadroom(e);
      });
      if (healthy.length > best.healthy.length) best = { supernet: s, healthy };
    }
    if (best.healthy.length < k) {
      return {
        rule: 'coverage',
        message:
          best.supernet === null
            ? `withdrawing ${a.prefix} from ${a.edge} leaves it without a covering supernet`
            : `withdrawing ${a.prefix} from ${a.edge}: supernet ${best.supernet} is announced by ${best.healthy.length} other healthy edge(s) with headroom, ${k} required`,
        details: {
          prefix: a.prefix,
          edge: a.edge,
          supernet: best.supernet,
          healthyAnnouncers: best.healthy,
          required: k,
        },
      };
    }
  }
  return undefined;
}
