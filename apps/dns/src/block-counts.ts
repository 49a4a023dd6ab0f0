/**
 * Answers per leaf key (parent * 2 + bit) of one steering class, in pages allocated on first
 * use. A full-size City table has millions of keys, of which one server sees a fraction: a flat
 * Uint32Array per class was ~25 MB per answering thread per snapshot, allocated (and zeroed) at
 * every swap. Counting stays one array increment plus a page lookup.
 */
const PAGE_BITS = 10;
const PAGE = 1 << PAGE_BITS;

export class BlockCounts {
  readonly #pages: (Uint32Array | undefined)[];

  constructor(keys: number) {
    this.#pages = new Array<Uint32Array | undefined>(Math.ceil(keys / PAGE)).fill(undefined);
  }

  add(key: number): void {
    const i = key >>> PAGE_BITS;
    let page = this.#pages[i];
    if (!page) {
      page = new Uint32Array(PAGE);
      this.#pages[i] = page;
    }
    page[key & (PAGE - 1)]!++;
  }

  /** Calls `visit` for every key with a count since the last drain, and resets them. */
  drain(visit: (key: number, count: number) => void): void {
    this.#pages.forEach((page, i) => {
      if (!page) return;
      for (let j = 0; j < PAGE; j++) {
        const n = page[j]!;
        if (n === 0) continue;
        page[j] = 0;
        visit((i << PAGE_BITS) | j, n);
      }
    });
  }
}
