import type { SnapshotBody } from '@catchment/core';
import type { Refusal } from './index.ts';

/** Whether DNS still has an answer for a service: a usable edge with addresses, or an anycast address. */
function hasAnswer(body: SnapshotBody, service: SnapshotBody['services'][number]): boolean {
  const usable = new Set(body.edges.filter((e) => e.usable && e.shiftPercent < 100).map((e) => e.name));
  const answers = service.addresses.some((a) => usable.has(a.edge) && a.v4.length + a.v6.length > 0);
  return answers || service.anycast.v4 !== null || service.anycast.v6 !== null;
}

/**
 * Safety rule 3, second half, for DNS: a service is never left without an answer. Only
 * a change that takes the last one away is refused (the route half is packages/routing's).
 */
export function checkServiceAnswer(before: SnapshotBody, after: SnapshotBody): Refusal | undefined {
  for (const s of after.services) {
    const was = before.services.find((x) => x.name === s.name);
    if (was && hasAnswer(before, was) && !hasAnswer(after, s)) {
      return {
        rule: 'service-answer',
        message: `service ${s.name} would have no DNS answer (no usable edge with addresses, no anycast address)`,
        details: { service: s.name },
      };
    }
  }
  return undefined;
}
