import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BuilderTrie, FACT_ASN, FACT_LOC } from '../src/trie.ts';

/** The insertion without the last-path shortcut: every network descends from the root. */
function referenceInsert(t: BuilderTrie, bytes: Uint8Array, length: number, which: number, value: number) {
  let node = 0;
  const alloc = (from: number) => {
    const i = t.size++;
    t.left[i] = -1;
    t.right[i] = -1;
    for (let f = 0; f < 3; f++) t.facts[i * 3 + f] = t.facts[from * 3 + f]!;
    return i;
  };
  for (let depth = 0; depth < length; depth++) {
    if (t.left[node] === -1) {
      t.left[node] = alloc(node);
      t.right[node] = alloc(node);
    }
    const bit = ((bytes[depth >> 3] ?? 0) >> (7 - (depth & 7))) & 1;
    node = bit ? t.right[node]! : t.left[node]!;
  }
  const stack = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    t.facts[n * 3 + which] = value;
    if (t.left[n] !== -1) stack.push(t.left[n]!, t.right[n]!);
  }
}

const snapshot = (t: BuilderTrie) => ({
  left: [...t.left.subarray(0, t.size)],
  right: [...t.right.subarray(0, t.size)],
  facts: [...t.facts.subarray(0, t.size * 3)],
});

describe('BuilderTrie', () => {
  it('builds the same trie, node for node, as inserting every network from the root', () => {
    const network = fc.record({
      bytes: fc.uint8Array({ minLength: 4, maxLength: 4 }),
      length: fc.integer({ min: 0, max: 32 }),
      which: fc.constantFrom(FACT_LOC, FACT_ASN),
      value: fc.integer({ min: -1, max: 50 }),
    });
    fc.assert(
      fc.property(fc.array(network, { maxLength: 60 }), fc.boolean(), (nets, sorted) => {
        // Tree walks insert in address order; other sources (rules, private ranges) do not.
        const list = sorted ? [...nets].sort((a, b) => Buffer.compare(a.bytes, b.bytes)) : nets;
        const fast = new BuilderTrie(4);
        const ref = new BuilderTrie(4096);
        for (const n of list) {
          fast.insert(n.bytes, n.length, n.which, n.value);
          referenceInsert(ref, n.bytes, n.length, n.which, n.value);
        }
        assert.deepEqual(snapshot(fast), snapshot(ref));
      }),
      { numRuns: 300 },
    );
  });
});
