import { type LookupTrie, parseNetwork, TrieWriter } from '@catchment/geo/tables';

/** A trie with value 1 inside any of the networks; undefined for an empty list (trust everyone). */
export function networkSetTrie(cidrs: string[]): LookupTrie | undefined {
  const nets = cidrs.map((c) => {
    const n = parseNetwork(c);
    if (!n) throw new Error(`"${c}" is not a network`);
    return n;
  });
  if (nets.length === 0) return undefined;
  const w = new TrieWriter();
  const build = (family: 4 | 6, depth: number, prefix: Uint8Array): number => {
    const inside = nets.some((n) => n.family === family && n.length <= depth && covers(n.bytes, prefix, n.length));
    if (inside) return ~1;
    const below = nets.some((n) => n.family === family && n.length > depth && covers(prefix, n.bytes, depth));
    if (!below) return ~0;
    const l = prefix.slice();
    const r = prefix.slice();
    r[depth >> 3] = r[depth >> 3]! | (0x80 >> (depth & 7));
    return w.node(build(family, depth + 1, l), build(family, depth + 1, r));
  };
  const root = (family: 4 | 6) => {
    const r = build(family, 0, new Uint8Array(family === 4 ? 4 : 16));
    return r >= 0 ? r : w.node(r, r);
  };
  const r4 = root(4);
  const r6 = root(6);
  return w.finish(r4, r6);
}

function covers(net: Uint8Array, addr: Uint8Array, length: number): boolean {
  for (let i = 0; i < length; i++) {
    const m = 0x80 >> (i & 7);
    if ((net[i >> 3]! & m) !== (addr[i >> 3]! & m)) return false;
  }
  return true;
}
