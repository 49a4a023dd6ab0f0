import type { SnapshotBody } from '@catchment/core';

/** What changed between two snapshots, as the plot's step marks ("lhr: dns-shift 25%"). */
export function changeNotes(prev: SnapshotBody, next: SnapshotBody): string[] {
  const notes: string[] = [];
  for (const e of next.edges) {
    const p = prev.edges.find((x) => x.name === e.name);
    if (p && p.shiftPercent !== e.shiftPercent) notes.push(`${e.name}: dns-shift ${e.shiftPercent}%`);
    if (p && p.state !== e.state) notes.push(`${e.name}: ${e.state}`);
  }
  for (const a of next.announcements) {
    const p = prev.announcements.find((x) => x.edge === a.edge && x.prefix === a.prefix);
    if (p && p.state !== a.state)
      notes.push(`${a.edge}: ${a.state === 'withdrawn' ? 'withdraw' : 'announce'} ${a.prefix}`);
    if (p && JSON.stringify(p.transitCommunities ?? {}) !== JSON.stringify(a.transitCommunities ?? {}))
      notes.push(`${a.edge}: communities on ${a.prefix}`);
  }
  for (const d of next.dsr) {
    const p = prev.dsr.find((x) => x.edge === d.edge);
    if (p && p.fraction !== d.fraction) notes.push(`${d.edge}: dsr ${Math.round((d.fraction / 65536) * 100)}%`);
  }
  return notes;
}
