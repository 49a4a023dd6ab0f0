import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BENCH = new URL('../../../bench/simulate.ts', import.meta.url).pathname;

// The scale benchmark at the suite's size: it runs, and simulates what it says (no timing asserted).
describe('pnpm bench:simulate at a small size', () => {
  it('prints one row with the population it built', async () => {
    const { stdout } = await run(process.execPath, [BENCH], {
      env: { ...process.env, SIZES: 'small' },
      timeout: 300_000,
    });
    const row = stdout.split('\n').find((l) => l.startsWith('| 2000 |'));
    assert.ok(row, stdout);
    const cells = row.split('|').map((c) => c.trim());
    // 2000 blocks, 6 edges; 4 countries × (50 ISP + 2 public) resolvers; 3 cache entries per block.
    assert.deepEqual(cells.slice(1, 7), ['2000', '6', '208', '10 min', 'scripted', '6000']);
    assert.match(cells[7]!, /^\d+\.\d s$/);
    assert.match(cells[9]!, /^\d+ MB$/);
  });
});
