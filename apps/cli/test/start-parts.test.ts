import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createToken, type StartedApi, startApi } from '@catchment/api';
import { AdvisoryLockLeadership } from '@catchment/controller';
import { loadConfigFile } from '@catchment/core';
import { type Database, importConfig, migrate, openDatabase, publishSnapshot, schema } from '@catchment/db';
import { freePort, freshPostgresUrl, GEOIP_TESTDATA, stopChild, tempDir, until } from '@catchment/testkit';
import { eq } from 'drizzle-orm';

const run = promisify(execFile);
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const DEMO = new URL('../../../config/demo.yaml', import.meta.url).pathname;
const CITY = `${GEOIP_TESTDATA}/GeoIP2-City-Test.mmdb`;
// MaxMind's test data: 81.2.69.142 is London; the demo sends it to lhr, or to fra when lhr is drained.
const LHR = '198.18.4.10';
const FRA = '198.18.1.10';

async function london(port: number): Promise<string> {
  const { stdout } = await run('dig', [
    '@127.0.0.1',
    '-p',
    String(port),
    '+short',
    '+time=1',
    '+tries=1',
    'www.example.net',
    '+subnet=81.2.69.142/32',
  ]);
  return stdout.trim();
}

/** `catchment start --only <parts>` as its own process, with its own data folder and ports. */
function startParts(parts: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN, 'start', '--only', parts], {
    env: {
      ...process.env,
      CATCHMENT_DNS_WORKERS: '1',
      CATCHMENT_GEOIP_CITY: CITY,
      CATCHMENT_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return { child, output: () => output };
}

const answers = (port: number, want: string) =>
  until(`London answered ${want}`, async () => ((await london(port)) === want ? want : undefined), 30_000);

describe('catchment start --only <parts> (separate processes on PostgreSQL)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let url: string;
  let database: Database;
  let api: StartedApi;
  let agent: string;
  let admin: string;
  const children: ReturnType<typeof startParts>[] = [];

  before(async () => {
    dir = await tempDir();
    url = await freshPostgresUrl();
    database = await openDatabase({ url });
    await migrate(database);
    await importConfig(database.db, await loadConfigFile(DEMO), { actor: 'test' });
    await publishSnapshot(database.db, { actor: 'test' });
    agent = (await createToken(database.db, { name: 'dns-1', role: 'agent' })).token;
    admin = (await createToken(database.db, { name: 'admin', role: 'admin' })).token;
    api = await startApi({ database, port: 0 });
  });
  after(async () => {
    for (const c of children) await stopChild(c.child);
    await api.close();
    await database.close();
    await dir.remove();
  });

  const setDrained = async (drained: boolean) => {
    const res = await fetch(`${api.url}/v1/edges/lhr/${drained ? 'drain' : 'undrain'}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'test' }),
    });
    assert.ok(res.status < 300, `${res.status} ${await res.text()}`);
  };

  it('--only dns follows the API without a database and keeps a last-good file', async () => {
    const dns = await freePort();
    const data = join(dir.path, 'dns');
    const env = {
      CATCHMENT_DATA_DIR: data,
      // Unreachable: a DNS server of its own must not need the database.
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      CATCHMENT_API_URL: api.url,
      CATCHMENT_API_TOKEN: agent,
      CATCHMENT_DNS_PORT: String(dns),
      CATCHMENT_DNS_HTTP_PORT: String(await freePort()),
    };
    const first = startParts('dns', env);
    children.push(first);
    await answers(dns, LHR).catch((err) => assert.fail(`${err}\n${first.output()}`));
    await setDrained(true);
    await answers(dns, FRA).catch((err) => assert.fail(`${err}\n${first.output()}`));
    const cache = join(data, 'dns-snapshot.json');
    await until('the last-good file has the drained version', async () => {
      const v = (JSON.parse(await readFile(cache, 'utf8')) as { version: number }).version;
      return v === api.app.catchment.hub.latestKnown()?.version ? v : undefined;
    });
    assert.equal(await stopChild(first.child), 0, first.output());

    // With the API gone too, a new start answers from the last-good file.
    const again = startParts('dns', { ...env, CATCHMENT_API_URL: `http://127.0.0.1:${await freePort()}` });
    children.push(again);
    await answers(dns, FRA).catch((err) => assert.fail(`${err}\n${again.output()}`));
    assert.equal(await stopChild(again.child), 0, again.output());
    await setDrained(false);
  });

  it('--only dns,controller hands the controller’s publications to its DNS server', async () => {
    // This test holds the leadership so the child's controller starts as a standby.
    const holder = new AdvisoryLockLeadership(url);
    assert.equal(await holder.check(), true);
    const dns = await freePort();
    const controllerPort = await freePort();
    const child = startParts('dns,controller', {
      CATCHMENT_DATA_DIR: join(dir.path, 'dns-controller'),
      DATABASE_URL: url,
      // No API anywhere: only the in-process path can bring new versions.
      CATCHMENT_API_URL: `http://127.0.0.1:${await freePort()}`,
      CATCHMENT_DNS_PORT: String(dns),
      CATCHMENT_DNS_HTTP_PORT: String(await freePort()),
      CATCHMENT_CONTROLLER_PORT: String(controllerPort),
    });
    children.push(child);
    try {
      await answers(dns, LHR).catch((err) => assert.fail(`${err}\n${child.output()}`));
      // A change nobody publishes; the child's controller publishes it when it becomes leader.
      await database.db.update(schema.edges).set({ override: 'drain' }).where(eq(schema.edges.name, 'lhr'));
      await holder.release();
      await answers(dns, FRA).catch((err) => assert.fail(`${err}\n${child.output()}`));
    } finally {
      await holder.crash().catch(() => {});
      await database.db.update(schema.edges).set({ override: 'none' }).where(eq(schema.edges.name, 'lhr'));
      assert.equal(await stopChild(child.child), 0, child.output());
    }
  });

  it('--only controller takes its name from CATCHMENT_CONTROLLER_NAME', async () => {
    const port = await freePort();
    const name = `replica-${process.pid}`;
    const child = startParts('controller', {
      CATCHMENT_DATA_DIR: join(dir.path, 'controller'),
      DATABASE_URL: url,
      CATCHMENT_CONTROLLER_PORT: String(port),
      CATCHMENT_CONTROLLER_NAME: name,
    });
    children.push(child);
    const ready = await until('controller /readyz', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      return res.status === 200 ? ((await res.json()) as { name?: string }) : undefined;
    }).catch((err) => assert.fail(`${err}\n${child.output()}`));
    assert.equal(ready.name, name, JSON.stringify(ready));
    assert.equal(await stopChild(child.child), 0, child.output());
    assert.ok(!existsSync(join(dir.path, 'controller', 'pglite.lock')), 'PostgreSQL, not the embedded database');
  });
});
