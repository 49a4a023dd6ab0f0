import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { ApiClient, ApiUnreachableError } from '@catchment/api-client';
import { SnapshotFollower } from '@catchment/core';
import { makeTestCa, type TestCa, tempDir, until } from '@catchment/testkit';
import { WORLD } from '@catchment/testkit/api-world';
import { startTestApi, type TestApi } from './helpers.ts';

type TempDir = Awaited<ReturnType<typeof tempDir>>;

/** The serial number of the certificate a new TLS connection to `url` is served. */
function servedSerial(url: string, ca: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port), ca, servername: 'localhost' }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.end();
      resolve(serial);
    });
    s.on('error', reject);
  });
}

describe('the API over TLS', () => {
  let dir: TempDir;
  let ca: TestCa;
  let other: TestCa;
  let t: TestApi;
  let server: { cert: string; key: string };
  let caPem: string;

  before(async () => {
    dir = await tempDir('catchment-tls-');
    ca = await makeTestCa(dir.path, 'site');
    other = await makeTestCa(dir.path, 'other');
    const issued = await ca.server('api');
    // The API reads these paths; the reload test replaces the files behind them.
    server = { cert: join(dir.path, 'served.pem'), key: join(dir.path, 'served.key') };
    await copyFile(issued.cert, server.cert);
    await copyFile(issued.key, server.key);
    caPem = await readFile(ca.cert, 'utf8');
    t = await startTestApi('pglite', { tls: { ...server, clientCa: ca.cert, watchMs: 100 } });
    // Through inject: the test's own fetch does not know the test CA.
    for (const [path, body] of WORLD) {
      const r = await t.api.app.inject({
        method: 'POST',
        url: path,
        headers: { authorization: `Bearer ${t.tokens.admin}` },
        payload: body as object,
      });
      assert.equal(r.statusCode, 201, `POST ${path}: ${r.body}`);
    }
  });
  after(async () => {
    await t?.close();
    await dir?.remove();
  });

  it('serves HTTPS, and refuses plain HTTP on the same port', async () => {
    assert.match(t.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const client = new ApiClient({ urls: t.url, token: t.tokens.viewer, tls: { ca: ca.cert } });
    const res = await client.json<{ items: unknown[] }>('GET', '/v1/edges');
    assert.equal(res.status, 200);
    assert.ok(res.body.items.length > 0);
    client.close();

    const plain = new ApiClient({ urls: t.url.replace('https:', 'http:'), token: t.tokens.viewer });
    await assert.rejects(plain.request('GET', '/v1/edges'), ApiUnreachableError);
    plain.close();
  });

  it('a consumer with the wrong CA refuses to connect and says which setting to fix', async () => {
    const client = new ApiClient({ urls: t.url, token: t.tokens.viewer, tls: { ca: other.cert } });
    await assert.rejects(client.request('GET', '/v1/edges'), (err: Error) => {
      assert.ok(err instanceof ApiUnreachableError);
      assert.match(err.message, /certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted .*CATCHMENT_API_CA/);
      return true;
    });
    client.close();
  });

  it('with a client CA: agent tokens need a client certificate from it (403 CLIENT_CERT_REQUIRED), operators do not', async () => {
    const bare = new ApiClient({ urls: t.url, token: t.tokens.agent, tls: { ca: ca.cert } });
    const refused = await bare.json<{ code: string; detail: string }>('GET', '/v1/snapshot');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'CLIENT_CERT_REQUIRED');
    assert.match(refused.body.detail, /agent tokens must be used over TLS with a client certificate/);
    bare.close();

    const foreign = await other.client('dns-foreign');
    const wrong = new ApiClient({ urls: t.url, token: t.tokens.agent, tls: { ca: ca.cert, ...foreign } });
    const notValid = await wrong.json<{ code: string; detail: string }>('GET', '/v1/snapshot');
    assert.equal(notValid.status, 403);
    assert.equal(notValid.body.code, 'CLIENT_CERT_REQUIRED');
    assert.match(notValid.body.detail, /not valid for this API/);
    wrong.close();

    const mine = await ca.client('dns-site1');
    const withCert = new ApiClient({ urls: t.url, token: t.tokens.agent, tls: { ca: ca.cert, ...mine } });
    const ok = await withCert.json<{ version: number }>('GET', '/v1/snapshot');
    assert.equal(ok.status, 200);
    assert.ok(ok.body.version > 0);
    withCert.close();

    const operator = new ApiClient({ urls: t.url, token: t.tokens.operator, tls: { ca: ca.cert } });
    assert.equal((await operator.request('GET', '/v1/edges')).status, 200);
    operator.close();
  });

  it('a snapshot follower verifies the API and presents its certificate', async () => {
    const mine = await ca.client('edge-lhr');
    const follower = new SnapshotFollower({
      apiUrl: t.url,
      token: t.tokens.agent,
      tls: { ca: ca.cert, ...mine },
      cacheFile: join(dir.path, 'follower.json'),
      waitSeconds: 1,
    });
    await follower.start();
    try {
      const snap = await follower.ready(10_000);
      assert.ok(snap && snap.version > 0, `no snapshot: ${follower.status().lastError}`);
      assert.equal(follower.status().source, 'api');
    } finally {
      await follower.stop();
    }
  });

  it('serves a certificate replaced on disk without a restart', async () => {
    const before = await servedSerial(t.url, caPem);
    const renewed = await ca.server('api-renewed');
    // As certbot and friends do: new files renamed over the old ones.
    await copyFile(renewed.key, `${server.key}.new`);
    await copyFile(renewed.cert, `${server.cert}.new`);
    await rename(`${server.key}.new`, server.key);
    await rename(`${server.cert}.new`, server.cert);
    const { stdout } = await promisify(execFile)('openssl', ['x509', '-in', renewed.cert, '-noout', '-serial']);
    const want = stdout
      .trim()
      .replace(/^serial=/, '')
      .toUpperCase();
    assert.notEqual(before.toUpperCase(), want);
    const now = await until(
      'the renewed certificate',
      async () => {
        const serial = (await servedSerial(t.url, caPem)).toUpperCase();
        return serial === want ? serial : undefined;
      },
      20_000,
    );
    assert.equal(now, want);
    // And requests keep working over it.
    const client = new ApiClient({ urls: t.url, token: t.tokens.viewer, tls: { ca: ca.cert } });
    assert.equal((await client.request('GET', '/v1/edges')).status, 200);
    client.close();
  });
});
