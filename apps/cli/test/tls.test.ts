import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createToken, type StartedApi, startApi } from '@catchment/api';
import type { Database } from '@catchment/db';
import { freshDatabase, makeTestCa, runCli, type TestCa, tempDir } from '@catchment/testkit';

describe('the CLI against an API over TLS with client certificates for every token', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let database: Database;
  let api: StartedApi;
  let ca: TestCa;
  let token: string;
  let env: Record<string, string>;

  before(async () => {
    dir = await tempDir('catchment-cli-tls-');
    ca = await makeTestCa(dir.path, 'ops');
    const server = await ca.server('api');
    database = await freshDatabase('pglite');
    token = (await createToken(database.db, { name: 'ops', role: 'operator' })).token;
    api = await startApi({ database, port: 0, tls: { ...server, clientCa: ca.cert, requireClientCert: 'all' } });
    env = { HOME: dir.path, CATCHMENT_CONFIG: join(dir.path, 'config.yaml') };
  });
  after(async () => {
    await api?.close();
    await database?.close();
    await dir?.remove();
  });

  it('refuses an API whose certificate it cannot verify, and says which setting to fix', async () => {
    const r = await runCli(['get', 'edges', '--api-url', api.url, '--token', token], env);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /^catchment: API_UNREACHABLE: the certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted .*CATCHMENT_API_CA/,
    );
  });

  it('takes the CA and the client certificate from a context (or the environment)', async () => {
    const set = await runCli(
      ['context', 'set', 'prod', '--url', api.url, '--token-value', token, '--ca', ca.cert, '--use'],
      env,
    );
    assert.equal(set.code, 0, set.stderr);
    const noCert = await runCli(['get', 'edges'], env);
    assert.notEqual(noCert.code, 0);
    assert.match(
      noCert.stderr,
      /^catchment: CLIENT_CERT_REQUIRED: operator tokens must be used over TLS with a client certificate/,
    );

    const mine = await ca.client('ops-laptop');
    const withCert = await runCli(
      ['context', 'set', 'prod', '--client-cert', mine.cert, '--client-key', mine.key],
      env,
    );
    assert.equal(withCert.code, 0, withCert.stderr);
    const ok = await runCli(['get', 'edges', '-o', 'json'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), []);

    const viaEnv = await runCli(['get', 'edges', '-o', 'json'], {
      HOME: dir.path,
      CATCHMENT_CONFIG: join(dir.path, 'none.yaml'),
      CATCHMENT_API_URL: api.url,
      CATCHMENT_API_TOKEN: token,
      CATCHMENT_API_CA: ca.cert,
      CATCHMENT_API_CLIENT_CERT: mine.cert,
      CATCHMENT_API_CLIENT_KEY: mine.key,
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
  });
});
