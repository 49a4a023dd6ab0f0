import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BgpLab } from '@catchment/testkit/bgp-lab';
import {
  desiredAnnouncements,
  formatCommunity,
  GobgpSpeaker,
  parseGobgpNeighbors,
  parseGobgpRib,
} from '../src/index.ts';
import { world } from './fixtures.ts';

test('parses gobgp JSON: communities as uint32, large communities, neighbor states', () => {
  const rib = parseGobgpRib(
    JSON.stringify({
      '198.18.1.0/24': [
        {
          nlri: { prefix: '198.18.1.0/24' },
          attrs: [
            { type: 1, value: 2 },
            { type: 8, communities: [4227072100, 4294901760] },
            { type: 32, value: [{ ASN: 64500, LocalData1: 70, LocalData2: 150 }] },
          ],
        },
      ],
    }),
    true,
  );
  assert.deepEqual(
    rib.map((r) => [r.prefix.text, r.communities.map(formatCommunity)]),
    [['198.18.1.0/24', ['64500:100', 'GRACEFUL_SHUTDOWN', '64500:70:150']]],
  );
  assert.deepEqual(parseGobgpRib('null', true), []);
  const n = parseGobgpNeighbors(
    JSON.stringify([{ conf: { neighbor_address: '100.64.1.1', peer_asn: 64500 }, state: { session_state: 6 } }]),
  );
  assert.deepEqual(n, [{ name: '100.64.1.1', established: true, state: 'Established', info: 'AS64500' }]);
});

for (const transport of ['grpc', 'cli'] as const) {
  test(`GoBGP speaker (${transport}): apply, replace communities, withdraw, read back at the transit`, async (t) => {
    const lab = await BgpLab.create({ edges: ['fra'] });
    t.after(() => lab.destroy());
    await lab.startEdgeGobgp('fra');
    const speaker = new GobgpSpeaker({ target: lab.gobgpTarget('fra'), transport });
    t.after(() => speaker.close());
    await lab.waitFor(async () => (await speaker.sessions()).every((s) => s.established), 20_000, 'GoBGP sessions');
    assert.deepEqual((await speaker.sessions()).map((s) => s.name).sort(), ['100.64.1.1', 'fd00:64:1::1']);

    const body = world();
    body.announcements = [
      {
        edge: 'fra',
        prefix: '198.18.0.0/20',
        state: 'announced',
        communities: ['64500:70:150', 'NO_EXPORT'],
        reason: null,
      },
    ];
    const first = await speaker.apply(desiredAnnouncements(body, 'fra'));
    assert.ok(first.changed && first.confirmed);
    assert.equal(first.diff.add.length, 4);
    await lab.waitFor(async () => (await lab.transitView()).length === 4, 10_000, 'routes at the transit');
    assert.deepEqual(await lab.transitView(), [
      'fra4 198.18.0.0/20 NO_EXPORT 64500:70:150',
      'fra4 198.18.1.0/24',
      'fra6 2001:db8:100::/40',
      'fra6 2001:db8:101::/48',
    ]);
    assert.equal((await speaker.apply(desiredAnnouncements(body, 'fra'))).changed, false, 'no-op when in line');
    const adjOut = await speaker.exported('100.64.1.1');
    assert.deepEqual(adjOut.map((r) => r.prefix.text).sort(), ['198.18.0.0/20', '198.18.1.0/24']);

    body.announcements = [
      { edge: 'fra', prefix: '198.18.0.0/20', state: 'announced', communities: ['64500:2002'], reason: null },
      { edge: 'fra', prefix: '198.18.1.0/24', state: 'withdrawn', communities: [], reason: 'test' },
    ];
    const second = await speaker.apply(desiredAnnouncements(body, 'fra'));
    assert.deepEqual(
      second.diff.remove.map((r) => r.prefix.text),
      ['198.18.1.0/24'],
    );
    assert.deepEqual(
      second.diff.update.map((r) => r.prefix.text),
      ['198.18.0.0/20'],
    );
    await lab.waitFor(async () => (await lab.transitView()).length === 3, 10_000, 'withdrawal at the transit');
    assert.deepEqual(await lab.transitView(), [
      'fra4 198.18.0.0/20 64500:2002',
      'fra6 2001:db8:100::/40',
      'fra6 2001:db8:101::/48',
    ]);
  });
}
