import type { SnapshotZone } from '@catchment/core';
import { encodeName } from '../wire/names.ts';
import { NameTable } from './name-table.ts';
import type { NameEntry } from './types.ts';

/** The names of the compiled zones: one entry per name (owners, services and their ancestors). */
export class NameEntries {
  readonly table = new NameTable();
  readonly entries: NameEntry[] = [];

  /** The entry of `name` (made on first use). */
  add(name: string, zone: number): number {
    const wire = encodeName(name);
    const idx = this.table.add(wire);
    if (idx === this.entries.length) {
      this.entries.push({
        name,
        zone,
        wireLen: wire.length,
        rrsets: new Map(),
        cname: undefined,
        cnameChain: undefined,
        cnameTarget: -1,
        cnameTargetAt: 0,
        service: -1,
        delegation: undefined,
        wildcard: -1,
        hasData: false,
      });
    }
    return idx;
  }

  /** The entry of a name that owns data, and the empty non-terminals between it and its zone's apex. */
  addOwner(name: string, zone: number, zoneName: string): number {
    const idx = this.add(name, zone);
    for (const a of ancestors(name, zoneName)) this.add(a, zone);
    this.entries[idx]!.hasData = true;
    return idx;
  }

  /** The entry index of `name`, or -1. */
  find(name: string): number {
    const wire = encodeName(name);
    return this.table.find(wire, 0, wire.length);
  }
}

function ancestors(name: string, zone: string): string[] {
  const out: string[] = [];
  let n = name;
  while (n !== zone && n.includes('.')) {
    n = n.slice(n.indexOf('.') + 1);
    out.push(n);
    if (n === zone) break;
  }
  return out;
}

/** The zone (index into `zones`) a name belongs to: the longest zone name it is in, so a child zone's names are its own; -1 outside. */
export function zoneLookup(zones: SnapshotZone[]): (name: string) => number {
  const index = new Map<string, number>();
  zones.forEach((z, zi) => {
    index.set(z.name, zi);
  });
  const longestFirst = [...zones].sort((a, b) => b.name.length - a.name.length);
  return (name) => {
    for (const z of longestFirst) {
      if (name === z.name || name.endsWith(`.${z.name}`)) return index.get(z.name)!;
    }
    return -1;
  };
}
