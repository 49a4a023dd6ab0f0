/**
 * Names in wire format, found case-insensitively straight from the packet bytes: an open
 * addressing table keyed by an FNV-1a hash of the case-folded labels. No string is built
 * per query, and every suffix of the question name can be looked up in place.
 */
function fold(c: number): number {
  // Length bytes are <= 63, so folding 'A'..'Z' (65..90) never touches them.
  return c >= 65 && c <= 90 ? c | 0x20 : c;
}

export function hashName(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ fold(b[i]!), 0x01000193);
  return h >>> 0;
}

export class NameTable {
  readonly #keys: Buffer[] = [];
  #slots: Int32Array = new Int32Array(16).fill(-1);

  get size(): number {
    return this.#keys.length;
  }

  /** Adds a lower-case wire name; returns its index (existing index when already present). */
  add(wire: Buffer): number {
    const found = this.find(wire, 0, wire.length);
    if (found >= 0) return found;
    if ((this.#keys.length + 1) * 2 > this.#slots.length) this.#grow();
    const idx = this.#keys.length;
    this.#keys.push(wire);
    this.#place(wire, idx);
    return idx;
  }

  #place(wire: Buffer, idx: number): void {
    const mask = this.#slots.length - 1;
    let s = hashName(wire, 0, wire.length) & mask;
    while (this.#slots[s] !== -1) s = (s + 1) & mask;
    this.#slots[s] = idx;
  }

  #grow(): void {
    this.#slots = new Int32Array(this.#slots.length * 2).fill(-1);
    this.#keys.forEach((k, i) => this.#place(k, i));
  }

  /** Index of the name b[start, end) (wire format, final root byte included), or -1. */
  find(b: Uint8Array, start: number, end: number): number {
    const mask = this.#slots.length - 1;
    const n = end - start;
    let s = hashName(b, start, end) & mask;
    for (;;) {
      const idx = this.#slots[s]!;
      if (idx === -1) return -1;
      const key = this.#keys[idx]!;
      if (key.length === n) {
        let i = 0;
        while (i < n && key[i] === fold(b[start + i]!)) i++;
        if (i === n) return idx;
      }
      s = (s + 1) & mask;
    }
  }
}
