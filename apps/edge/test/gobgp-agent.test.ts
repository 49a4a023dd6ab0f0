import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { SnapshotFollower } from '@catchment/core';
import { GobgpSpeaker } from '@catchment/routing';
import { BgpLab } from '@catchment/testkit/bgp-lab';
import { labWorld } from '@catchment/testkit/lab-world';
import { SnapshotApi } from '@catchment/testkit/snapshot-api';
import { startEdgeAgent } from '../src/index.ts';

test('the agent drives gobgpd the same way: announce, withdraw, community change, restart', async (t) => {
  const lab = await BgpLab.create({ edges: ['fra', 'iad'] });
  t.after(() => lab.destroy());
  await lab.startEdgeGobgp('fra');
  const api = await SnapshotApi.start();
  t.after(() => api.close());
  const body = labWorld(['fra', 'iad'], ['fra', 'iad']);
  api.publish(body);
  const e = lab.edge('fra');
  const start = () =>
    startEdgeAgent({
      edge: 'fra',
      speaker: new GobgpSpeaker({ target: lab.gobgpTarget('fra') }),
      follower: new SnapshotFollower({ apiUrl: api.url, token: api.token, cacheFile: join(e.dir, 'snapshot.json') }),
      http: false,
      reportIntervalMs: 0,
    });
  let agent = await start();
  t.after(() => agent.stop());
  const fra = async () => (await lab.transitView()).filter((l) => l.startsWith('fra'));
  const waitFra = (expected: string[], what: string) =>
    lab
      .waitFor(async () => JSON.stringify(await fra()) === JSON.stringify(expected), 20_000, what)
      .catch(async (e) => assert.deepEqual(await fra(), expected, (e as Error).message));
  await waitFra(
    ['fra4 198.18.0.0/20', 'fra4 198.18.1.0/24 64500:100', 'fra6 2001:db8:100::/40', 'fra6 2001:db8:101::/48'],
    'fra announced by gobgpd',
  );
  body.announcements = [
    { edge: 'fra', prefix: '198.18.1.0/24', state: 'withdrawn', communities: [], reason: 'test' },
    { edge: 'fra', prefix: '198.18.0.0/20', state: 'announced', communities: ['64500:2002'], reason: 'test' },
  ];
  api.publish(body);
  const after = ['fra4 198.18.0.0/20 64500:2002', 'fra6 2001:db8:100::/40', 'fra6 2001:db8:101::/48'];
  await waitFra(after, 'the withdrawal and the community change');
  const stamped = async () =>
    (await lab.transitRoutes()).map((r) => `${r.protocol} ${r.prefix.text} ${r.since}`).sort();
  const before = await stamped();
  await agent.stop();
  agent = await start();
  assert.deepEqual(await agent.plan().then((d) => [d?.add.length, d?.remove.length, d?.update.length]), [0, 0, 0]);
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(await stamped(), before, 'restarting the agent changes nothing');
  assert.deepEqual(
    agent
      .status()
      .sessions.map((s) => `${s.name} ${s.established}`)
      .sort(),
    ['100.64.1.1 true', 'fd00:64:1::1 true'],
  );
});
