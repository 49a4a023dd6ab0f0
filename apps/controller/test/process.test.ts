import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Database, schema } from '@catchment/db';
import { freePort, freshDatabase, sharedCluster, until } from '@catchment/testkit';
import { addPlaybook, NORMAL_LOADS, reportLoads, seedWorld, setAlert } from '@catchment/testkit/world';
import { asc } from 'drizzle-orm';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

await sharedCluster();

interface Replica {
  name: string;
  port: number;
  child: ChildProcess;
  exited: Promise<number | null>;
}

function startReplica(name: string, url: string, port: number): Replica {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      NODE_TEST_CONTEXT: '',
      DATABASE_URL: url,
      CATCHMENT_CONTROLLER_NAME: name,
      CATCHMENT_CONTROLLER_PORT: String(port),
      CATCHMENT_CONTROLLER_TICK: '* * * * * *',
      CATCHMENT_LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, port, child, exited };
}

async function readyz(r: Replica): Promise<{ status: string; leader?: boolean } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${r.port}/readyz`, { signal: AbortSignal.timeout(2000) });
    return (await res.json()) as { status: string; leader?: boolean };
  } catch {
    return undefined;
  }
}

/**
 * Two standalone controller processes on one PostgreSQL: one leads, the other stands
 * by; the leader is SIGKILLed in the middle of a run and the standby finishes the
 * run's escalation without repeating or skipping an action; SIGTERM stops gracefully.
 */
describe('controller processes', () => {
  let database: Database;
  const replicas: Replica[] = [];
  after(async () => {
    for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await database?.close();
  });

  it('the standby takes over from a killed leader and continues its run', async () => {
    database = await freshDatabase('postgres');
    const db = database.db;
    const ids = await seedWorld(db);
    await addPlaybook(db, {
      name: 'shed',
      trigger: { alert: { alertname: 'EdgeOverloaded' } },
      steps: [{ kind: 'dns-shift', schedule: [10, 25, 50], verify: { within: '3s' }, dwell: '1m' }],
    });
    const url = database.url ?? '';
    const a = startReplica('a', url, await freePort());
    replicas.push(a);
    await until('controller A leading', async () => (await readyz(a))?.leader === true, 30_000);
    const b = startReplica('b', url, await freePort());
    replicas.push(b);
    await until('controller B ready', async () => (await readyz(b))?.status === 'ready', 30_000);
    assert.equal((await readyz(b))?.leader, false, 'b stands by');
    const metrics = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
    assert.match(metrics, /catchment_controller_leader 1/);
    assert.equal((await fetch(`http://127.0.0.1:${a.port}/healthz`)).status, 200);

    await reportLoads(db, ids, NORMAL_LOADS, new Date());
    // Agents keep reporting, as real ones do: each stage's verification needs a report newer than it.
    const reporting = setInterval(() => void reportLoads(db, ids, NORMAL_LOADS, new Date()).catch(() => {}), 1000);
    after(() => clearInterval(reporting));
    await setAlert(db, ids, 'lhr', 'firing', new Date());
    const actions = () => db.select().from(schema.actions).orderBy(asc(schema.actions.id));
    await until('the first action', async () => (await actions()).length >= 1, 20_000);
    a.child.kill('SIGKILL');
    await a.exited;

    await until('controller B taking over', async () => (await readyz(b))?.leader === true, 20_000);
    await until(
      'the 50 % shift',
      async () => (await actions()).some((x) => (x.params as { percent: number }).percent === 50),
      30_000,
    );
    const all = await actions();
    assert.deepEqual(
      all.map((x) => (x.params as { percent: number }).percent),
      [10, 25, 50],
      'each stage exactly once, in order',
    );
    assert.equal(all[0]?.actor, 'a');
    assert.equal(all.at(-1)?.actor, 'b');
    const snapshots = await db.select().from(schema.snapshots);
    assert.ok(
      snapshots.some((s) => s.createdBy === 'b'),
      'the new leader publishes',
    );

    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0, 'graceful stop');
  });
});
