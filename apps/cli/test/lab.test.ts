import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { CATCHMENT_CLI } from '@catchment/testkit';

// The lab itself is exercised by apps/controller/test/traffic (the same TrafficLab).
test('catchment lab refuses to run without root, and says why', { skip: process.getuid?.() !== 0 }, () => {
  const [node = '', main = ''] = CATCHMENT_CLI;
  for (const args of [['lab'], ['lab', 'down']]) {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', node, main, ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /LAB_NEEDS_ROOT: .*run it as root/);
  }
});
