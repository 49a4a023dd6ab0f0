import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import type { SnapshotBody } from '@catchment/core';
import { birdCommand } from '@catchment/routing';
import { BgpLab } from '@catchment/testkit/bgp-lab';
import { labWorld } from '@catchment/testkit/lab-world';
import { SnapshotApi } from '@catchment/testkit/snapshot-api';
import { type EdgeAgent, startEdgeAgent } from '../src/index.ts';

async function listen(port = 0): Promise<Server> {
  const srv = createServer((s) => s.end());
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
  return srv;
}

test('edge agents drive BIRD: announce, withdraw, communities, restart, API loss, local health', async (t) => {
  const lab = await BgpLab.create({ edges: ['fra', 'iad', 'lhr'] });
  t.after(() => lab.destroy());
  const api = await SnapshotApi.start();
  t.after(() => api.close());
  let service = await listen();
  const servicePort = (service.address() as { port: number }).port;
  t.after(() => new Promise((r) => service.close(r)));

  const body: SnapshotBody = labWorld();
  api.publish(body);

  const agents = new Map<string, EdgeAgent>();
  // Appliers beside the speaker (the XDP DSR maps are one): each sees every snapshot; a failing one
  // is counted and never stops the routes.
  const applied: string[] = [];
  const recorder = {
    name: 'recorder',
    apply: async (snap: { version: number }, edge: string) => {
      applied.push(`${edge} v${snap.version}`);
    },
  };
  const broken = {
    name: 'broken',
    apply: async () => {
      throw new Error('map update failed');
    },
  };
  const start = async (name: string, http = false) => {
    const agent = await startEdgeAgent({
      ...lab.agentParts(name, api),
      apiUrl: api.url,
      token: api.token,
      reconcileCron: '* * * * * *',
      appliers: name === 'fra' ? [recorder, broken] : [],
      reportIntervalMs: 0,
      http: http ? { host: '127.0.0.1', port: 0 } : false,
      checks:
        name === 'lhr'
          ? [
              {
                service: 'www.example.net',
                kind: 'tcp',
                host: '127.0.0.1',
                port: servicePort,
                intervalMs: 100,
                fall: 2,
                rise: 2,
                dwellMs: 800,
              },
            ]
          : [],
    });
    agents.set(name, agent);
    return agent;
  };
  t.after(async () => {
    for (const a of agents.values()) await a.stop();
  });
  for (const name of ['fra', 'iad', 'lhr']) await start(name, name === 'fra');

  const view = () => lab.transitView();
  /** Routes with the time BIRD last changed them (ms of its wall clock): equal twice means nothing moved. */
  const stamped = async () => {
    const routes = await lab.transitRoutes();
    assert.ok(
      routes.every((r) => /^\d\d:\d\d:\d\d/.test(r.since)),
      'BIRD prints when each route changed',
    );
    return new Map(
      routes.map((r) => [`${r.protocol} ${r.prefix.text} ${r.communities.length}`, sinceMs(r.since)] as const),
    );
  };
  /**
   * BIRD keeps a route's change time on its monotonic clock and converts it to wall time when it
   * prints, so an unchanged route can print a millisecond apart; a real change comes with the
   * agent's apply, tens of milliseconds later at least.
   */
  const assertUnchanged = (after: Map<string, number>, before: Map<string, number>, message: string) => {
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), message);
    for (const [route, at] of after) {
      assert.ok(Math.abs(at - (before.get(route) ?? Number.NaN)) <= 5, `${message}: ${route} changed`);
    }
  };
  const waitView = async (expected: string[], what: string) => {
    await lab
      .waitFor(async () => JSON.stringify(await view()) === JSON.stringify(expected), 20_000, what)
      .catch(async (e) => {
        assert.deepEqual(await view(), expected, (e as Error).message);
      });
  };
  const full = [
    'fra4 198.18.0.0/20',
    'fra4 198.18.1.0/24 64500:100',
    'fra6 2001:db8:100::/40',
    'fra6 2001:db8:101::/48',
    'iad4 198.18.0.0/20',
    'iad4 198.18.2.0/24 64500:100',
    'iad6 2001:db8:100::/40',
    'iad6 2001:db8:102::/48',
    'lhr4 198.18.3.0/24 64500:100',
    'lhr6 2001:db8:103::/48',
  ];

  await t.test('the /24s and /48s and the supernets arrive at the transit with their communities', async () => {
    await waitView(full, 'every announcement at the transit');
  });

  await t.test('a published withdrawal removes exactly the /24 while the /20 stays', async () => {
    const before = await stamped();
    body.announcements = [
      { edge: 'lhr', prefix: '198.18.3.0/24', state: 'withdrawn', communities: [], reason: 'test: withdraw-unicast' },
    ];
    api.publish(body);
    await waitView(
      full.filter((l) => l !== 'lhr4 198.18.3.0/24 64500:100'),
      'the withdrawal at the transit',
    );
    const expected = new Map([...before].filter(([route]) => !route.startsWith('lhr4 198.18.3.0/24')));
    assertUnchanged(await stamped(), expected, 'no other route changed');
  });

  await t.test('a community change arrives (and the /24 comes back)', async () => {
    body.announcements = [
      {
        edge: 'fra',
        prefix: '198.18.0.0/20',
        state: 'announced',
        communities: ['64500:2002', '64500:70:150'],
        reason: 'test',
      },
    ];
    api.publish(body);
    await waitView(
      full.map((l) => (l === 'fra4 198.18.0.0/20' ? 'fra4 198.18.0.0/20 64500:2002 64500:70:150' : l)).sort(),
      'the new communities at the transit',
    );
  });
  const v3 = full.map((l) => (l === 'fra4 198.18.0.0/20' ? 'fra4 198.18.0.0/20 64500:2002 64500:70:150' : l)).sort();

  await t.test('agents report announcements and BGP sessions to the API', async () => {
    await lab.waitFor(
      () =>
        api.reports.some(
          (r) =>
            r.consumer === 'edge:iad' &&
            r.snapshotVersion === 3 &&
            r.healthy === true &&
            JSON.stringify(r.details).includes('"established":true'),
        ),
      10_000,
      'a healthy report from iad for v3',
    );
    await lab.waitFor(
      () => api.reports.some((x) => x.consumer === 'edge:fra' && x.snapshotVersion === 3),
      10_000,
      'a report from fra for v3',
    );
    const r = api.reports.findLast((x) => x.consumer === 'edge:fra') as {
      kind: string;
      healthy: boolean;
      details: { lastError: string; announcements: { prefix: string; communities: string[] }[] };
    };
    assert.equal(r.kind, 'edge');
    assert.equal(r.healthy, false, 'a failing applier makes the edge report unhealthy');
    assert.equal(r.details.lastError, 'broken: map update failed');
    assert.deepEqual(r.details.announcements.find((a) => a.prefix === '198.18.0.0/20')?.communities, [
      '64500:2002',
      '64500:70:150',
    ]);
  });

  await t.test('metrics and health endpoint', async () => {
    const url = agents.get('fra')?.httpUrl;
    assert.ok(url);
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, /catchment_edge_announcements\{state="announced",edge="fra"\} 4/);
    assert.match(text, /catchment_edge_bgp_session_up\{session="transit4",state="Established",edge="fra"\} 1/);
    assert.match(text, /catchment_edge_snapshot_version\{edge="fra"\} 3/);
    assert.match(text, /catchment_edge_reconcile_duration_seconds_count\{edge="fra"\} [1-9]/);
    assert.match(text, /catchment_edge_seconds_since_last_apply\{edge="fra"\} \d/);
    assert.match(text, /catchment_edge_reconcile_errors_total\{stage="broken",edge="fra"\} [1-9]/);
    assert.ok(applied.includes('fra v3'), `the applier saw v3: ${applied.join(', ')}`);
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.deepEqual(await (await fetch(`${url}/plan`)).json(), { add: [], remove: [], update: [], unchanged: 4 });
    const st = (await (await fetch(`${url}/status`)).json()) as { snapshotVersion: number; sessions: unknown[] };
    assert.equal(st.snapshotVersion, 3);
    assert.equal(st.sessions.length, 2);
  });

  await t.test('restarting an agent changes nothing at the transit', async () => {
    const before = await stamped();
    await agents.get('fra')?.stop();
    const again = await start('fra');
    const dry = await again.plan();
    assert.deepEqual(
      [dry?.add.length, dry?.remove.length, dry?.update.length],
      [0, 0, 0],
      'the dry run shows nothing to do',
    );
    const out = await again.reconcile('test');
    assert.equal(out.applied, true);
    assert.equal(out.changed, false);
    await new Promise((r) => setTimeout(r, 1500));
    assertUnchanged(await stamped(), before, 'no route changed');
  });

  await t.test('drift is repaired by the scheduled reconcile', async () => {
    const e = lab.edge('iad');
    await writeFile(e.includeFile, 'protocol static catchment_v4 { ipv4; }\nprotocol static catchment_v6 { ipv6; }\n');
    await birdCommand(e.socket, 'configure');
    await waitView(v3, 'the routes iad lost come back without a snapshot change');
  });

  await t.test('a restarted BIRD comes back with the routes of its include file', async () => {
    await lab.stopEdgeBird('iad');
    const failed = await agents.get('iad')?.reconcile('test');
    assert.equal(failed?.applied, false);
    assert.match(failed?.error ?? '', /^speaker: cannot reach BIRD/);
    await waitView(
      v3.filter((l) => !l.startsWith('iad')),
      'iad gone with its BIRD',
    );
    lab.startEdgeBird('iad');
    await waitView(v3, 'iad back from its include file');
    const after = await agents.get('iad')?.reconcile('test');
    assert.deepEqual([after?.applied, after?.changed], [true, false], 'nothing left to do');
  });

  await t.test('losing the API changes nothing, even across an agent restart', async () => {
    const before = await stamped();
    await api.close();
    await new Promise((r) => setTimeout(r, 1500));
    for (const a of agents.values()) assert.equal((await a.reconcile('test')).applied, true);
    await agents.get('iad')?.stop();
    const iad = await start('iad');
    assert.equal(iad.status().snapshotVersion, 3, 'started from the last good snapshot on disk');
    await new Promise((r) => setTimeout(r, 1500));
    assertUnchanged(await stamped(), before, 'no route changed');
  });

  await t.test('a failing local health check withdraws, recovery re-announces after the dwell', async () => {
    await new Promise((r) => service.close(r));
    const without = v3.filter((l) => !l.startsWith('lhr'));
    await waitView(without, 'lhr withdrawn after its service fails');
    const lhr = agents.get('lhr');
    assert.deepEqual(Object.keys(lhr?.status().localWithdrawals ?? {}).sort(), ['198.18.3.0/24', '2001:db8:103::/48']);
    service = await listen(servicePort);
    await waitView(v3, 'lhr re-announced after recovery and dwell');
  });
});

/** BIRD's "hh:mm:ss.sss" route time (optionally after a date) as ms of the day. */
function sinceMs(since: string): number {
  const m = /(\d\d):(\d\d):(\d\d)(?:\.(\d+))?/.exec(since);
  if (!m) return Number.NaN;
  const [, h, min, s, frac = '0'] = m;
  return ((Number(h) * 60 + Number(min)) * 60 + Number(s)) * 1000 + Number(frac.padEnd(3, '0').slice(0, 3));
}
