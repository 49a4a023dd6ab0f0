import type { SnapshotBody, SnapshotTransit } from '@catchment/core';
import { type Community, formatCommunity, normaliseCommunities, parseCommunity } from './community.ts';

/**
 * Per-transit community catalogues: an operator speaks in intents ("prepend-2x",
 * "no-export-to-64501", "graceful-shutdown"), each transit maps them to its own
 * community values. Resolving an intent for all transits gives every value to tag.
 */
export interface Catalogue {
  readonly transit: string;
  readonly asn: number;
  readonly intents: ReadonlyMap<string, Community[]>;
}

export class UnknownIntentError extends Error {
  readonly intent: string;
  readonly transit: string | undefined;
  constructor(intent: string, transit: string | undefined) {
    super(transit ? `transit "${transit}" has no intent "${intent}"` : `no transit defines intent "${intent}"`);
    this.name = 'UnknownIntentError';
    this.intent = intent;
    this.transit = transit;
  }
}

export function catalogueOf(t: SnapshotTransit): Catalogue {
  const intents = new Map<string, Community[]>();
  for (const [name, values] of Object.entries(t.intents)) intents.set(name, normaliseCommunities(values));
  return { transit: t.name, asn: t.asn, intents };
}

export function catalogues(body: Pick<SnapshotBody, 'transits'>): Catalogue[] {
  return body.transits.map(catalogueOf);
}

/**
 * The communities for `intents`, on one transit or (when `transit` is absent) on every
 * transit that defines the intent. Throws UnknownIntentError when none defines it.
 */
export function resolveIntents(body: Pick<SnapshotBody, 'transits'>, intents: string[], transit?: string): Community[] {
  const cats = catalogues(body).filter((c) => transit === undefined || c.transit === transit);
  if (transit !== undefined && cats.length === 0) throw new Error(`unknown transit "${transit}"`);
  const out: Community[] = [];
  for (const intent of intents) {
    const found = cats.flatMap((c) => c.intents.get(intent) ?? []);
    if (found.length === 0 && !cats.some((c) => c.intents.has(intent))) throw new UnknownIntentError(intent, transit);
    out.push(...found);
  }
  return normaliseCommunities(out);
}

/** Reverse lookup for reports: which (transit, intent) pairs a set of communities expresses in full. */
export function intentsExpressed(
  body: Pick<SnapshotBody, 'transits'>,
  communities: Community[],
): { transit: string; intent: string }[] {
  const have = new Set(communities.map(formatCommunity));
  const out: { transit: string; intent: string }[] = [];
  for (const c of catalogues(body)) {
    for (const [intent, values] of c.intents) {
      if (values.length > 0 && values.every((v) => have.has(formatCommunity(v))))
        out.push({ transit: c.transit, intent });
    }
  }
  return out;
}

export { parseCommunity };
