import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createToken, type StartedApi, startApi } from '@catchment/api';
import { SnapshotFollower } from '@catchment/core';
import { type Database, schema } from '@catchment/db';
import { type EdgeAgent, startEdgeAgent } from '@catchment/edge';
import { BirdSpeaker } from '@catchment/routing';
import { freshDatabase, sharedCluster } from '@catchment/testkit';
import { asc } from 'drizzle-orm';
import { BgpLab } from '../../../packages/routing/test/lab.ts';
import { Config, decodeStruct, Tools, XdpDsrApplier } from '../../edge/src/xdp/index.ts';
import { Controller } from '../src/index.ts';
import { addPlaybook, NORMAL_LOADS, reportLoads, seedWorld } from './fixtures.ts';

await sharedCluster();

/**
 * The routing half of the end to end, in the routing branch's network-namespace lab
 * (transit BIRD + one BIRD per edge, edge agents following the real API): an overload
 * signal for lhr makes the controller add the prepend community to lhr's announcements,
 * then withdraw lhr's /24, which disappears from the transit's RIB while the supernet
 * stays; when the signal resolves, both are undone in reverse.
 */
describe('signal → API → controller → edge agents → BIRD → transit RIB (PostgreSQL, netns lab)', () => {
  let lab: BgpLab | undefined;
  let database: Database | undefined;
  let api: StartedApi | undefined;
  let controller: Controller | undefined;
  let standby: Controller | undefined;
  let xdp: XdpDsrApplier | undefined;
  const agents: EdgeAgent[] = [];
  after(async () => {
    for (const a of agents) await a.stop().catch(() => {});
    await xdp?.remove().catch(() => {});
    await controller?.crash();
    await standby?.stop();
    await api?.close();
    await database?.close();
    await lab?.destroy();
  });

  it('prepends, withdraws the /24 (the /20 stays), and undoes both when the signal resolves', async () => {
    lab = await BgpLab.create({ edges: ['fra', 'iad', 'sin', 'lhr'] });
    database = await freshDatabase('postgres');
    const db = database.db;
    const ids = await seedWorld(db);
    await addPlaybook(db, {
      name: 'shed',
      trigger: { alert: { alertname: 'EdgeOverloaded' } },
      steps: [
        { kind: 'communities', transit: 'transit-a', intents: ['prepend-2x'], verify: { within: '3s' }, dwell: '2s' },
        { kind: 'withdraw-unicast', verify: { within: '3s' }, dwell: '2s' },
        { kind: 'dsr-shed', fraction: 0.25, verify: { within: '1m' }, dwell: '2s' },
      ],
    });
    await reportLoads(db, ids, NORMAL_LOADS, new Date());
    const operator = (await createToken(db, { name: 'monitoring', role: 'operator' })).token;
    api = await startApi({ database, port: 0 });
    // Two replicas: the leader is killed in the middle of the run, the standby finishes it.
    controller = new Controller({ database, http: false, name: 'controller:a' });
    await controller.start();
    standby = new Controller({ database, http: false, name: 'controller:b', leaderPollMs: 200 });
    await standby.start();
    assert.equal(controller.isLeader() !== standby.isLeader(), true, 'exactly one leads');
    const [leader, follower] = controller.isLeader() ? [controller, standby] : [standby, controller];
    // lhr's agent also drives the XDP DSR program on its uplink, in its namespace.
    const lhr = lab.edge('lhr');
    xdp = new XdpDsrApplier({ iface: `${lab.id}e4`, netns: lhr.ns, instance: `catchment_ctl_e2e_${process.pid}` });
    const tools = new Tools({ netns: lhr.ns });
    const xdpConfig = async () => {
      const prog = await xdp?.program;
      if (!prog) return undefined;
      const entries = await tools.json<{ value: string[] }[]>(['map', 'dump', 'pinned', prog.mapPath('config')]);
      const value = entries[0]?.value;
      if (!value) return undefined;
      const cfg = decodeStruct(Config, Buffer.from(value.map((h) => Number.parseInt(h, 16)))) as Record<
        string,
        unknown
      >;
      return { enabled: Number(cfg.enabled), fraction: Number(cfg.fraction) };
    };
    for (const name of ['fra', 'iad', 'sin', 'lhr']) {
      const e = lab.edge(name);
      const token = (await createToken(db, { name: `edge-${name}`, role: 'agent' })).token;
      agents.push(
        await startEdgeAgent({
          edge: name,
          speaker: new BirdSpeaker({ socket: e.socket, includeFile: e.includeFile, mainConfig: e.mainConfig }),
          follower: new SnapshotFollower({
            apiUrl: api.url,
            token,
            cacheFile: join(e.dir, 'snapshot.json'),
            waitSeconds: 5,
            retryMs: 100,
          }),
          apiUrl: api.url,
          token,
          reconcileCron: '*/5 * * * * *',
          reportIntervalMs: 0,
          http: false,
          ...(name === 'lhr' && xdp ? { appliers: [xdp] } : {}),
        }),
      );
    }
    const view = () => lab?.transitView() ?? Promise.resolve([]);
    const lhr24 = async () => (await view()).find((l) => l.startsWith('lhr4 198.18.4.0/24'));
    await lab.waitFor(
      async () => (await lhr24()) === 'lhr4 198.18.4.0/24 64500:100',
      30_000,
      "lhr's /24 at the transit",
    );
    assert.ok((await view()).includes('fra4 198.18.0.0/20'));

    const signal = (status: 'firing' | 'resolved') =>
      fetch(`${api?.url}/v1/signals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          source: 'monitoring',
          name: 'EdgeOverloaded',
          status,
          fingerprint: 'lhr-overloaded',
          labels: { alertname: 'EdgeOverloaded', edge: 'lhr' },
          edge: 'lhr',
          startsAt: startsAt.toISOString(),
        }),
      });
    const startsAt = new Date();
    const fired = Date.now();
    assert.equal((await signal('firing')).status < 300, true);
    await lab.waitFor(
      async () => (await lhr24())?.includes('64500:2002') === true,
      30_000,
      'the prepend community at the transit',
    );
    const communityAfter = Date.now() - fired;
    await leader.crash();
    await lab.waitFor(() => follower.isLeader(), 20_000, 'the standby leads');
    await lab.waitFor(async () => (await lhr24()) === undefined, 30_000, "lhr's /24 gone from the transit");
    const withdrawnAfter = Date.now() - fired;
    const rib = await view();
    assert.ok(rib.includes('fra4 198.18.0.0/20') && rib.includes('iad4 198.18.0.0/20'), 'the supernet stays');
    await lab.waitFor(async () => (await xdpConfig())?.fraction === 16384, 30_000, "the DSR fraction in lhr's XDP map");
    const dsrAfter = Date.now() - fired;
    assert.equal((await xdpConfig())?.enabled, 1);

    const resolved = Date.now();
    assert.equal((await signal('resolved')).status < 300, true);
    await lab.waitFor(async () => (await xdpConfig())?.enabled === 0, 30_000, 'DSR shedding off first');
    await lab.waitFor(async () => (await lhr24()) !== undefined, 30_000, "lhr's /24 back at the transit");
    await lab.waitFor(async () => (await lhr24()) === 'lhr4 198.18.4.0/24 64500:100', 30_000, 'the community removed');
    const restoredAfter = Date.now() - resolved;

    const actions = await db.select().from(schema.actions).orderBy(asc(schema.actions.id));
    assert.deepEqual(
      actions.map((a) => a.kind),
      ['communities', 'withdraw-unicast', 'withdraw-unicast', 'dsr-shed'],
    );
    assert.equal(actions[0]?.actor, leader.name);
    assert.ok(
      actions.slice(1).every((a) => a.actor === follower.name),
      'the standby finished the run, nothing twice',
    );
    assert.ok(actions.every((a) => a.revertedAt !== null));
    console.log(
      `# e2e lab: signal → community at the transit ${communityAfter} ms, → /24 gone ${withdrawnAfter} ms (after a 3 s verify window), → XDP fraction set ${dsrAfter} ms (after another); resolved → all back ${restoredAfter} ms (three 2 s dwells)`,
    );
  });
});
