import { cidrContains, ipFamily, parseCidr, type SnapshotBody } from '@catchment/core';
import type { Refusal } from './index.ts';

function covered(body: SnapshotBody, address: string): boolean {
  const family = ipFamily(address);
  if (!family) return false;
  const host = parseCidr(`${address}/${family === 4 ? 32 : 128}`);
  return body.announcements.some((a) => a.state === 'announced' && cidrContains(parseCidr(a.prefix), host));
}

/** What a service still has in a body: DNS answers (usable edges with addresses) and announced routes. */
function reach(body: SnapshotBody, service: SnapshotBody['services'][number]) {
  const usable = new Set(body.edges.filter((e) => e.usable && e.shiftPercent < 100).map((e) => e.name));
  const answers = service.addresses.filter((a) => usable.has(a.edge) && a.v4.length + a.v6.length > 0);
  const anycast = [service.anycast.v4, service.anycast.v6].filter((x): x is string => x !== null);
  const addresses = [...service.addresses.flatMap((a) => [...a.v4, ...a.v6]), ...anycast];
  return {
    dns: answers.length > 0 || anycast.length > 0,
    route: addresses.some((ip) => covered(body, ip)),
  };
}

/**
 * Safety rule 3, second half: a service is never left without a DNS answer or an
 * announced route. Only a change that takes the last one away is refused.
 */
export function checkLastRoute(before: SnapshotBody, after: SnapshotBody): Refusal | undefined {
  for (const s of after.services) {
    const was = before.services.find((x) => x.name === s.name);
    if (!was) continue;
    const b = reach(before, was);
    const a = reach(after, s);
    if (b.route && !a.route)
      return {
        rule: 'last-route',
        message: `service ${s.name} would have no announced route to any of its addresses`,
        details: { service: s.name },
      };
    if (b.dns && !a.dns)
      return {
        rule: 'last-route',
        message: `service ${s.name} would have no DNS answer (no usable edge with addresses, no anycast address)`,
        details: { service: s.name },
      };
  }
  return undefined;
}
