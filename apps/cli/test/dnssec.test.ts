import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createToken, type StartedApi, startApi } from '@catchment/api';
import type { Database } from '@catchment/db';
import { freshDatabase, runCli, TEST_KEK, tempDir } from '@catchment/testkit';

const DEMO = new URL('../../../config/demo.yaml', import.meta.url).pathname;

// The API (this process) holds the KEK; the CLI processes get none.
process.env.CATCHMENT_DNSSEC_KEK = TEST_KEK.toString('hex');

/**
 * `catchment dnssec` as a process against a running API whose embedded PGlite database is held
 * by that API's process (as under `catchment start`): the CLI must go through the API, so it
 * gets no database and no KEK, only an API URL and a token.
 */
describe('catchment dnssec through the API', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let database: Database;
  let api: StartedApi;
  let env: Record<string, string>;
  let viewerEnv: Record<string, string>;

  before(async () => {
    dir = await tempDir();
    database = await freshDatabase('pglite');
    const admin = (await createToken(database.db, { name: 'dnssec-admin', role: 'admin' })).token;
    const viewer = (await createToken(database.db, { name: 'dnssec-viewer', role: 'viewer' })).token;
    api = await startApi({ database, port: 0, explain: null });
    // An empty data directory: a CLI that opened the database itself would create one here.
    const base = { HOME: dir.path, CATCHMENT_DATA_DIR: join(dir.path, 'data'), CATCHMENT_API_URL: api.url };
    env = { ...base, CATCHMENT_API_TOKEN: admin };
    viewerEnv = { ...base, CATCHMENT_API_TOKEN: viewer };
    const applied = await runCli(['apply', DEMO, '--doit'], env);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  });
  after(async () => {
    await api?.close();
    await database?.close();
    await dir?.remove();
  });

  it('shows keys and the DS for the parent, as text and as JSON', async () => {
    const shown = await runCli(['dnssec', 'show', 'example.net'], viewerEnv);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^zone example\.net: signed\n/);
    assert.match(shown.stdout, /^ {2}key \d+ ksk ECDSAP256SHA256 active ds$/m);
    assert.match(shown.stdout, /^ {2}key \d+ zsk ECDSAP256SHA256 active$/m);
    assert.match(shown.stdout, /^DS for the parent:\n {2}example\.net\. IN DS \d+ 13 2 [0-9A-F]{64}$/m);
    const ds = await runCli(['dnssec', 'ds', 'example.net'], viewerEnv);
    assert.equal(ds.code, 0, ds.stderr);
    assert.match(ds.stdout, /^example\.net\. IN DS \d+ 13 2 [0-9A-F]{64}\n$/);
    const json = JSON.parse((await runCli(['dnssec', 'show', 'example.net', '-o', 'json'], viewerEnv)).stdout);
    assert.equal(json.zone, 'example.net');
    assert.equal(json.keys.length, 2);
    assert.deepEqual(await readdir(dir.path), [], 'the CLI opened no database of its own');
  });

  it('runs a ZSK rollover step by step, waiting unless forced, with the API refusing a viewer', async () => {
    const refused = await runCli(['dnssec', 'rollover', 'example.net', '--kind', 'zsk'], viewerEnv);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /FORBIDDEN|INSUFFICIENT|403/);
    const started = await runCli(['dnssec', 'rollover', 'example.net', '--kind', 'zsk', '--reason', 'yearly'], env);
    assert.equal(started.code, 0, started.stderr);
    const m = /^ {2}rollover (\d+) zsk: published, next step at \S+$/m.exec(started.stdout);
    assert.ok(m, started.stdout);
    assert.equal((started.stdout.match(/^ {2}key \d+ zsk /gm) ?? []).length, 2, 'the new ZSK is pre-published');
    const early = await runCli(['dnssec', 'advance', 'example.net', m[1]!], env);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /ROLLOVER_WAITING/);
    const active = await runCli(['dnssec', 'advance', 'example.net', m[1]!, '--force'], env);
    assert.equal(active.code, 0, active.stderr);
    assert.match(active.stdout, new RegExp(`^ {2}rollover ${m[1]} zsk: active, `, 'm'));
    const done = await runCli(['dnssec', 'advance', 'example.net', m[1]!, '--force'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.doesNotMatch(done.stdout, /rollover \d+/, 'finished rollovers are not listed as open');
    assert.equal((done.stdout.match(/^ {2}key \d+ zsk /gm) ?? []).length, 1, 'the old ZSK is removed');
  });

  it('reports bad input and unknown zones clearly', async () => {
    const kind = await runCli(['dnssec', 'rollover', 'example.net', '--kind', 'rsa'], env);
    assert.equal(kind.code, 1);
    assert.match(kind.stderr, /USAGE: --kind must be zsk or ksk/);
    const id = await runCli(['dnssec', 'advance', 'example.net', 'first'], env);
    assert.match(id.stderr, /USAGE: the rollover id must be a number/);
    const unknown = await runCli(['dnssec', 'show', 'nowhere.example'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /NOT_FOUND/);
  });
});
