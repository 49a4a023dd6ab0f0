/**
 * The binary trie the answer tables are built in. Every node carries the facts that decide the
 * answer for its block (location id, ASN id, CIDR rule id; -1 = none). Inserting a network
 * splits leaves on its path (children inherit the parent's facts) and sets the fact on its
 * whole subtree, so the result is the product of all sources: each leaf is a block in which
 * every source says the same thing.
 */
export const FACT_LOC = 0;
export const FACT_ASN = 1;
export const FACT_RULE = 2;
const FACTS = 3;

export class BuilderTrie {
  left: Int32Array;
  right: Int32Array;
  facts: Int32Array;
  size = 0;
  readonly #stack = new Int32Array(2 * 129 + 2);
  /** The last insertion's network and the nodes on its path (path[d]: the node at depth d). */
  readonly #bits = new Uint8Array(16);
  readonly #path = new Int32Array(130);
  #depth = 0;

  /**
   * `capacity`: the expected node count. Growing by doubling from small left the allocator's heap
   * full of freed pieces (~200 MB of RSS after building from a full-size City database); an
   * over-estimate costs address space only, untouched pages of a big zeroed buffer are not resident.
   */
  constructor(capacity = 1024) {
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.facts = new Int32Array(capacity * FACTS);
    this.#alloc(-1, -1, -1);
  }

  #alloc(loc: number, asn: number, rule: number): number {
    if (this.size === this.left.length) {
      const grow = (a: Int32Array, n: number) => {
        const b = new Int32Array(n);
        b.set(a);
        return b;
      };
      this.left = grow(this.left, this.left.length * 2);
      this.right = grow(this.right, this.right.length * 2);
      this.facts = grow(this.facts, this.facts.length * 2);
    }
    const i = this.size++;
    this.left[i] = -1;
    this.right[i] = -1;
    this.facts[i * FACTS] = loc;
    this.facts[i * FACTS + 1] = asn;
    this.facts[i * FACTS + 2] = rule;
    return i;
  }

  fact(node: number, which: number): number {
    return this.facts[node * FACTS + which]!;
  }

  insert(bytes: Uint8Array, length: number, which: number, value: number): void {
    // Networks mostly come in address order (tree walks): start from the deepest node of the
    // last insertion's path that this network shares, instead of from the root. Nodes are never
    // removed, so that path is still the same nodes; the trie built is the same either way.
    const bits = this.#bits;
    const max = Math.min(length, this.#depth);
    let common = 0;
    for (let i = 0; common < max; i++) {
      const x = (bytes[i] ?? 0) ^ bits[i]!;
      if (x !== 0) {
        common += Math.clz32(x) - 24;
        break;
      }
      common += 8;
    }
    if (common > max) common = max;
    const path = this.#path;
    let node = path[common]!;
    for (let depth = common; depth < length; depth++) {
      if (this.left[node] === -1) {
        const f = node * FACTS;
        // Children are allocated in pairs (right = left + 1): the steering index keeps only `left`.
        const l = this.#alloc(this.facts[f]!, this.facts[f + 1]!, this.facts[f + 2]!);
        const r = this.#alloc(this.facts[f]!, this.facts[f + 1]!, this.facts[f + 2]!);
        this.left[node] = l;
        this.right[node] = r;
      }
      const bit = ((bytes[depth >> 3] ?? 0) >> (7 - (depth & 7))) & 1;
      node = bit ? this.right[node]! : this.left[node]!;
      path[depth + 1] = node;
    }
    for (let i = 0; i < bits.length; i++) bits[i] = bytes[i] ?? 0;
    this.#depth = length;
    // Depth-first over the subtree with a kept stack (at most one pending sibling per level).
    const stack = this.#stack;
    let top = 0;
    stack[top++] = node;
    while (top > 0) {
      const n = stack[--top]!;
      this.facts[n * FACTS + which] = value;
      if (this.left[n] !== -1) {
        stack[top++] = this.left[n]!;
        stack[top++] = this.right[n]!;
      }
    }
  }
}

/**
 * The frozen lookup trie: two Int32 per node; a child >= 0 is a node, < 0 is a leaf whose
 * value is ~child. The roots are always nodes, so no answer ever has scope /0.
 */
export interface LookupTrie {
  nodes: Int32Array;
  /** Parent link of each node (parent * 2 + bit), -1 for roots: turns a leaf key back into a block. */
  parents: Int32Array;
  root4: number;
  root6: number;
}

export class TrieWriter {
  nodes!: Int32Array;
  parents!: Int32Array;
  size = 0;

  /**
   * `capacity`: the expected node count. One allocation instead of a chain of doublings: the
   * allocator kept the freed pieces, and RSS grew by ~150 MB over a few swaps of a full-size
   * City table. Too large costs little: untouched pages of a big zeroed buffer are not resident.
   */
  constructor(capacity = 1024) {
    this.#allocate(capacity);
  }

  /** nodes and parents in one buffer (see finish). */
  #allocate(capacity: number): void {
    const buffer = new ArrayBuffer(capacity * 3 * Int32Array.BYTES_PER_ELEMENT);
    this.nodes = new Int32Array(buffer, 0, capacity * 2);
    this.parents = new Int32Array(buffer, capacity * 2 * Int32Array.BYTES_PER_ELEMENT, capacity);
  }

  node(left: number, right: number): number {
    if (this.size * 2 === this.nodes.length) {
      const { nodes, parents } = this;
      this.#allocate(parents.length * 2);
      this.nodes.set(nodes);
      this.parents.set(parents);
    }
    const i = this.size++;
    this.nodes[i * 2] = left;
    this.nodes[i * 2 + 1] = right;
    this.parents[i] = -1;
    if (left >= 0) this.parents[left] = i * 2;
    if (right >= 0) this.parents[right] = i * 2 + 1;
    return i;
  }

  /**
   * The frozen trie, exact size, in one SharedArrayBuffer: worker threads receive it without a
   * copy (posting a SharedArrayBuffer shares its memory), so N answering threads cost one table.
   * One buffer rather than two: a full-size table is then above glibc's mmap threshold (32 MB at
   * most), so it is mapped on its own and unmapped when the last thread lets go of it. Two
   * 12-25 MB buffers came from the heap, where the workers' later frees left holes: RSS grew by
   * ~250 MB over 100 swaps.
   */
  finish(root4: number, root6: number): LookupTrie {
    const n = this.size;
    const buffer = new SharedArrayBuffer(n * 3 * Int32Array.BYTES_PER_ELEMENT);
    const nodes = new Int32Array(buffer, 0, n * 2);
    const parents = new Int32Array(buffer, n * 2 * Int32Array.BYTES_PER_ELEMENT, n);
    nodes.set(this.nodes.subarray(0, n * 2));
    parents.set(this.parents.subarray(0, n));
    return { nodes, parents, root4, root6 };
  }
}

/** Result of one lookup, reused by the caller to avoid allocation on the query path. */
export interface LookupResult {
  value: number;
  /** Depth of the leaf: the block's prefix length. */
  length: number;
  /** parent * 2 + bit: identifies the block for per-block counters. */
  key: number;
}

/**
 * Longest-prefix lookup of an address held in `bytes` from `offset`; bits past `available`
 * bytes read as zero (ECS addresses carry only the source prefix's bytes).
 */
export function lookupBits(
  trie: LookupTrie,
  family: 4 | 6,
  bytes: Uint8Array,
  offset: number,
  available: number,
  out: LookupResult,
): void {
  descend(trie.nodes, family === 4 ? trie.root4 : trie.root6, 0, bytes, offset, available, out);
}

/**
 * The walk of a lookup from `node` at `depth` down to its leaf (also the DNS server's indexed
 * lookup, which starts at depth 16).
 */
export function descend(
  nodes: Int32Array,
  start: number,
  from: number,
  bytes: Uint8Array,
  offset: number,
  available: number,
  out: LookupResult,
): void {
  let node = start;
  for (let depth = from; ; depth++) {
    const byteIndex = depth >> 3;
    const byte = byteIndex < available ? bytes[offset + byteIndex]! : 0;
    const bit = (byte >> (7 - (depth & 7))) & 1;
    const child = nodes[node * 2 + bit]!;
    if (child < 0) {
      out.value = ~child;
      out.length = depth + 1;
      out.key = node * 2 + bit;
      return;
    }
    node = child;
  }
}

/** The block (family, bytes, length) a leaf key stands for. */
export function blockOfKey(trie: LookupTrie, key: number): { family: 4 | 6; bytes: Uint8Array; length: number } {
  const bits: number[] = [];
  let link = key;
  let node = -1;
  while (link >= 0) {
    bits.push(link & 1);
    node = link >> 1;
    link = trie.parents[node]!;
  }
  const family = node === trie.root4 ? 4 : 6;
  const bytes = new Uint8Array(family === 4 ? 4 : 16);
  bits.reverse();
  bits.forEach((b, i) => {
    if (b) bytes[i >> 3] = bytes[i >> 3]! | (0x80 >> (i & 7));
  });
  return { family, bytes, length: bits.length };
}
