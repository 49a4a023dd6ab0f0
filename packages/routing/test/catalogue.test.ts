import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogues, formatCommunity, intentsExpressed, resolveIntents, UnknownIntentError } from '../src/index.ts';
import { world } from './fixtures.ts';

test('catalogues map each transit intent to its parsed communities', () => {
  const cats = catalogues(world());
  assert.equal(cats.length, 2);
  assert.deepEqual(cats[0]?.intents.get('lower-local-pref-eu')?.map(formatCommunity), ['64500:70:150']);
  assert.deepEqual(cats[0]?.intents.get('graceful-shutdown'), [{ kind: 'standard', asn: 65535, value: 0 }]);
});

test('an intent resolves on one transit or on every transit that defines it', () => {
  const body = world();
  assert.deepEqual(resolveIntents(body, ['prepend-2x'], 'transit-a').map(formatCommunity), ['64500:2002']);
  assert.deepEqual(resolveIntents(body, ['prepend-2x']).map(formatCommunity), ['64500:2002', '64510:202']);
  assert.deepEqual(resolveIntents(body, ['prepend-2x', 'no-export-eu']).map(formatCommunity), [
    '64500:2002',
    '64510:202',
    '64510:0:3',
  ]);
});

test('unknown intents and transits are refused', () => {
  const body = world();
  assert.throws(() => resolveIntents(body, ['no-export-eu'], 'transit-a'), UnknownIntentError);
  assert.throws(() => resolveIntents(body, ['make-it-fast']), /no transit defines intent "make-it-fast"/);
  assert.throws(() => resolveIntents(body, ['prepend-2x'], 'transit-z'), /unknown transit/);
});

test('reverse lookup names the intents a set of communities expresses', () => {
  const body = world();
  const got = intentsExpressed(body, resolveIntents(body, ['prepend-2x', 'graceful-shutdown'], 'transit-a'));
  assert.deepEqual(got, [
    { transit: 'transit-a', intent: 'prepend-2x' },
    { transit: 'transit-a', intent: 'graceful-shutdown' },
  ]);
});
