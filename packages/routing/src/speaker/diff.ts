import { communitySetKey } from '../community.ts';
import type { DesiredAnnouncement } from '../desired.ts';
import type { RouteDiff, SpeakerRoute } from './types.ts';

/** What it takes to go from the speaker's originated routes to the desired set. */
export function diffRoutes(actual: SpeakerRoute[], desired: DesiredAnnouncement[]): RouteDiff {
  const have = new Map(actual.map((r) => [r.prefix.text, r]));
  const want = desired.filter((d) => d.state === 'announced');
  const wanted = new Set(want.map((d) => d.prefix.text));
  const add: DesiredAnnouncement[] = [];
  const update: DesiredAnnouncement[] = [];
  let unchanged = 0;
  for (const d of want) {
    const r = have.get(d.prefix.text);
    if (!r) add.push(d);
    else if (communitySetKey(r.communities) !== communitySetKey(d.communities)) update.push(d);
    else unchanged++;
  }
  const remove = actual.filter((r) => !wanted.has(r.prefix.text));
  return { add, remove, update, unchanged };
}

export function isEmptyDiff(d: RouteDiff): boolean {
  return d.add.length === 0 && d.remove.length === 0 && d.update.length === 0;
}
