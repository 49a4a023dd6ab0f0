import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createToken, type StartedApi, startApi } from '@catchment/api';
import { type Snapshot, SnapshotFollower } from '@catchment/core';
import { type Database, schema } from '@catchment/db';
import { createDnsServer, type DnsServer } from '@catchment/dns';
import { freshDatabase, sharedCluster, tempDir } from '@catchment/testkit';
import { asc } from 'drizzle-orm';
import { type RunningAlertmanager, startAlertmanager } from '../../api/test/alertmanager.ts';
import { freePort } from '../../dns/test/helpers.ts';
import { Controller } from '../src/index.ts';
import { addPlaybook, NORMAL_LOADS, reportLoads, seedWorld } from './fixtures.ts';
import { waitFor } from './prometheus-harness.ts';

const run = promisify(execFile);
await sharedCluster();

/**
 * The control-plane half of the end to end, on real parts: PostgreSQL, the API,
 * a real Alertmanager posting to the API's webhook, the controller (on its schedule and
 * wake-up), and a DNS server following the API's snapshots. An overload alert for lhr
 * shifts the DNS answers of lhr's clients (dig +subnet) and withdraws lhr's /24 in the
 * published state; when the alert resolves, both are undone in reverse after the dwell.
 * (The routing and XDP effects in the network-namespace lab come with that lab.)
 */
describe('alert → API → controller → snapshot → DNS answers (PostgreSQL)', () => {
  let database: Database;
  let api: StartedApi | undefined;
  let am: RunningAlertmanager | undefined;
  let controller: Controller | undefined;
  let dns: DnsServer | undefined;
  let follower: SnapshotFollower | undefined;
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
  after(async () => {
    await follower?.stop();
    await dns?.close();
    await controller?.stop();
    await am?.stop();
    await api?.close();
    await database?.close();
    await dir?.remove();
  });

  it('sheds lhr when Alertmanager fires and restores it when the alert resolves', async () => {
    database = await freshDatabase('postgres');
    const db = database.db;
    const ids = await seedWorld(db, {
      // A client block that the policy sends to lhr, so dig can ask as one of lhr's clients.
      edit: (c) => c.policies?.[0]?.rules.unshift({ match: { cidr: '192.0.2.0/24' }, edges: ['lhr'] }),
    });
    await addPlaybook(db, {
      name: 'shed',
      mode: 'approve',
      trigger: { alert: { alertname: 'EdgeOverloaded' } },
      steps: [
        { kind: 'dns-shift', schedule: [100], verify: { within: '2s' }, dwell: '2s' },
        { kind: 'withdraw-unicast', verify: { within: '1m' }, dwell: '2s' },
      ],
    });
    await reportLoads(db, ids, NORMAL_LOADS, new Date());
    const operator = (await createToken(db, { name: 'alertmanager', role: 'operator' })).token;
    const agent = (await createToken(db, { name: 'dns-1', role: 'agent' })).token;
    api = await startApi({ database, port: 0 });
    am = await startAlertmanager([
      { url: `${api.url}/v1/signals/alertmanager`, auth: { authorization: { type: 'Bearer', credentials: operator } } },
    ]);
    controller = new Controller({ database, http: false, name: 'controller:e2e' });
    await controller.start();

    const port = await freePort();
    dns = await createDnsServer({ listen: [{ address: '127.0.0.1', port }], workers: 0 });
    dir = await tempDir('catchment-e2e-');
    follower = new SnapshotFollower({
      apiUrl: api.url,
      token: agent,
      cacheFile: join(dir.path, 'snapshot.json'),
      waitSeconds: 5,
    });
    follower.on('snapshot', (snap: Snapshot) => void dns?.setSnapshot(snap));
    await follower.start();
    const dig = async () =>
      (
        await run('dig', [
          '@127.0.0.1',
          '-p',
          String(port),
          'www.example.net',
          'A',
          '+subnet=192.0.2.0/24',
          '+short',
          '+tries=1',
          '+time=2',
        ])
      ).stdout.trim();
    await waitFor(async () => (await dig()) === '198.18.4.10', 30_000);

    const fired = Date.now();
    await am.push([
      {
        labels: { alertname: 'EdgeOverloaded', edge: 'lhr', severity: 'page' },
        startsAt: new Date(fired - 1000).toISOString(),
        endsAt: new Date(fired + 3_600_000).toISOString(),
      },
    ]);
    // Approval mode: each stage waits for an operator's POST /v1/runs/:id/approve.
    const approve = async () => {
      const [pending] = await db.select().from(schema.playbookRuns);
      const res = await fetch(`${api?.url}/v1/runs/${pending?.id}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'go ahead' }),
      });
      return res.status;
    };
    const awaiting = async () => (await db.select().from(schema.playbookRuns))[0]?.state === 'awaiting-approval';
    await waitFor(awaiting, 30_000);
    assert.equal(await dig(), '198.18.4.10', 'nothing changes before the approval');
    const approvedAt = Date.now();
    assert.equal(await approve(), 200);
    await waitFor(async () => !['198.18.4.10', ''].includes(await dig()), 30_000);
    const approvedToAnswer = Date.now() - approvedAt;
    const shiftedAfter = Date.now() - fired;
    const answer = await dig();
    assert.match(answer, /^198\.18\.[1-6]\.10$/, 'another edge answers for lhr clients');
    const withdrawn = async () =>
      follower?.current()?.body.announcements.find((a) => a.edge === 'lhr' && a.prefix === '198.18.4.0/24')?.state ===
      'withdrawn';
    await waitFor(awaiting, 30_000);
    assert.equal(await approve(), 200);
    await waitFor(withdrawn, 30_000);

    const resolved = Date.now();
    await am.push([
      {
        labels: { alertname: 'EdgeOverloaded', edge: 'lhr', severity: 'page' },
        startsAt: new Date(fired - 1000).toISOString(),
        endsAt: new Date(resolved).toISOString(),
      },
    ]);
    await waitFor(async () => !(await withdrawn()), 30_000);
    await waitFor(async () => (await dig()) === '198.18.4.10', 30_000);
    const restoredAfter = Date.now() - resolved;

    const actions = await db.select().from(schema.actions).orderBy(asc(schema.actions.id));
    assert.deepEqual(
      actions.map((a) => a.kind),
      ['dns-shift', 'withdraw-unicast', 'withdraw-unicast'],
    );
    assert.ok(actions.every((a) => a.revertedAt !== null));
    // Undone in reverse: the withdrawals before the DNS shift.
    assert.ok((actions[1]?.revertedAt?.getTime() ?? 0) <= (actions[0]?.revertedAt?.getTime() ?? 0));
    const [runRow] = await db.select().from(schema.playbookRuns);
    assert.equal(runRow?.state, 'resolved');
    const [signal] = await db.select().from(schema.signals);
    const snaps = await db.select().from(schema.snapshots).orderBy(asc(schema.snapshots.version));
    const shiftSnap = snaps.find(
      (x) => (x.body as Snapshot['body']).edges.find((e) => e.name === 'lhr')?.shiftPercent === 100,
    );
    const since = (d: Date | undefined) => (d ? d.getTime() - fired : Number.NaN);
    console.log(
      `# e2e timeline after the push to Alertmanager: signal stored ${since(signal?.receivedAt)} ms, action ${since(actions[0]?.createdAt)} ms, snapshot ${since(shiftSnap?.createdAt)} ms`,
    );
    const steps = await db.select().from(schema.runSteps);
    assert.deepEqual(steps.map((s) => s.decidedBy).filter(Boolean).length, 2, 'both stages approved by the operator');
    console.log(`# e2e: approval → DNS answer changed ${approvedToAnswer} ms`);
    console.log(
      `# e2e: alert pushed to Alertmanager → DNS answer changed: ${shiftedAfter} ms; resolved → DNS answer back: ${restoredAfter} ms (includes the 2 s dwell)`,
    );
  });
});
