import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSteering, GeoDb, type LookupResult, lookupBits } from '@catchment/geo';
import { demoBody } from '@catchment/testkit/geo-fixtures';
import { strideIndex, strideLookup } from '../src/stride.ts';

const result = (): LookupResult => ({ value: 0, length: 0, key: 0 });

describe('first-level index over a steering trie', () => {
  it('gives the answer, block length and key of lookupBits for any address and prefix', () => {
    // The embedded country database: about a million networks, leaves above and below depth 16.
    const table = buildSteering(demoBody(), new GeoDb({ watch: false }));
    const trie = table.classes[0]!.trie;
    const index = strideIndex(trie);
    assert.equal(strideIndex(trie), index, 'one index per trie');
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 8;
    };
    const a = result();
    const b = result();
    let shallow = 0;
    for (let i = 0; i < 20_000; i++) {
      const family = i % 3 === 0 ? 6 : 4;
      const bytes = new Uint8Array(family === 4 ? 4 : 16).map(() => rand() & 0xff);
      // ECS addresses carry only their source prefix's bytes: 0 to all of them.
      const available = rand() % (bytes.length + 1);
      lookupBits(trie, family, bytes, 0, available, a);
      strideLookup(index, family, bytes, 0, available, b);
      assert.deepEqual(b, a, `${family} ${bytes.join('.')} /${available * 8}`);
      if (a.length <= 16) shallow++;
    }
    assert.ok(shallow > 100, `leaves above depth 16 were exercised (${shallow})`);
  });
});
