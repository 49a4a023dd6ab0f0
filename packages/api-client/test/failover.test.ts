import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { freePort } from '@catchment/testkit';
import { ApiClient, ApiConfigError, ApiUnreachableError, Endpoints, parseApiUrls } from '../src/index.ts';

interface Fake {
  url: string;
  hits: string[];
  status: number;
  /** Destroy the socket of each request after reading it (the request reached the server). */
  drop: boolean;
  server: Server;
}

async function fake(name: string): Promise<Fake> {
  const f: Fake = { url: '', hits: [], status: 200, drop: false, server: createServer() };
  f.server.on('request', (req, res) => {
    f.hits.push(`${req.method} ${req.url}`);
    if (f.drop) return req.socket.destroy();
    res.writeHead(f.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ from: name, auth: req.headers.authorization ?? null }));
  });
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
  const addr = f.server.address();
  f.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return f;
}

describe('the API client: a list of URLs with failover', () => {
  let a: Fake;
  let b: Fake;
  let dead: string;
  before(async () => {
    a = await fake('a');
    b = await fake('b');
    dead = `http://127.0.0.1:${await freePort()}`;
  });
  after(() => {
    a.server.close();
    b.server.close();
  });
  const reset = () => {
    for (const f of [a, b]) {
      f.hits = [];
      f.status = 200;
      f.drop = false;
    }
  };

  it('parses a comma-separated list and refuses what is not an http(s) URL', () => {
    assert.deepEqual(parseApiUrls(' http://a:1/ , https://b:2'), ['http://a:1', 'https://b:2']);
    assert.throws(() => parseApiUrls(''), ApiConfigError);
    assert.throws(() => parseApiUrls('ftp://a'), /must start with http/);
    assert.throws(() => parseApiUrls('a b'), /not a URL/);
  });

  it('moves to the next URL when one refuses connections, and stays with the one that works', async () => {
    reset();
    const failovers: string[] = [];
    const c = new ApiClient({
      urls: [dead, a.url, b.url],
      token: 't',
      onFailover: (f, t) => failovers.push(`${f}>${t}`),
    });
    const first = await c.json<{ from: string; auth: string }>('GET', '/v1/snapshot');
    assert.equal(first.body.from, 'a');
    assert.equal(first.body.auth, 'Bearer t');
    assert.deepEqual(failovers, [`${dead}>${a.url}`]);
    assert.equal(c.url, a.url);
    // Sticky: the dead URL is not tried again while a works.
    await c.request('GET', '/v1/snapshot');
    assert.equal(a.hits.length, 2);
    assert.equal(failovers.length, 1);
    c.close();
  });

  it('a 503 (an instance closing or without its database) goes to the next URL; other statuses are answers', async () => {
    reset();
    a.status = 503;
    const c = new ApiClient({ urls: [a.url, b.url] });
    assert.equal((await c.json<{ from: string }>('GET', '/x')).body.from, 'b');
    a.status = 404;
    b.status = 404;
    const c2 = new ApiClient({ urls: [a.url, b.url] });
    const res = await c2.json<{ from: string }>('GET', '/x');
    assert.equal(res.status, 404);
    assert.equal(res.body.from, 'a');
    c.close();
    c2.close();
  });

  it('a write that may have reached an instance is not sent to another unless the caller allows it', async () => {
    reset();
    a.drop = true;
    const c = new ApiClient({ urls: [a.url, b.url] });
    await assert.rejects(c.request('POST', '/v1/actions', { body: { x: 1 } }), ApiUnreachableError);
    assert.equal(b.hits.length, 0, 'not sent twice');
    const c2 = new ApiClient({ urls: [a.url, b.url] });
    const res = await c2.json<{ from: string }>('POST', '/v1/actions', { body: { x: 1 }, retry: true });
    assert.equal(res.body.from, 'b');
    // A refused connection cannot have reached anything: a write goes on to the next URL.
    const c3 = new ApiClient({ urls: [dead, b.url] });
    assert.equal((await c3.json<{ from: string }>('POST', '/v1/actions', { body: {} })).body.from, 'b');
    for (const x of [c, c2, c3]) x.close();
  });

  it('every URL down: one error naming each URL and its reason', async () => {
    const other = `http://127.0.0.1:${await freePort()}`;
    const c = new ApiClient({ urls: `${dead},${other}` });
    await assert.rejects(c.request('GET', '/v1/snapshot'), (err: Error) => {
      assert.ok(err instanceof ApiUnreachableError);
      assert.equal(err.attempts.length, 2);
      assert.match(err.message, new RegExp(`cannot reach the API at ${dead} \\(ECONNREFUSED\\).*${other}`));
      return true;
    });
    c.close();
  });

  it('backs off from a failed URL, in list order, and tries all when all are backing off', () => {
    const e = new Endpoints(['u0', 'u1', 'u2'], { baseMs: 1000, maxMs: 8000 });
    assert.deepEqual(e.order(0), [0, 1, 2]);
    e.failed(0, 0);
    assert.deepEqual(e.order(10), [1, 2], 'u0 backs off, u1 is current');
    e.failed(1, 10);
    e.failed(2, 10);
    assert.deepEqual(e.order(20), [0, 1, 2], 'all backing off: all are tried, from the current one');
    assert.deepEqual(e.order(1001), [0], 'u0 back first');
    e.failed(0, 1001);
    e.failed(0, 3001);
    e.failed(0, 7001);
    e.failed(0, 15_001);
    assert.ok(!e.order(23_000).includes(0));
    assert.ok(e.order(23_001).includes(0), 'u0 backs off at most maxMs (8 s, not 16 s)');
    e.succeeded(2);
    assert.deepEqual(e.order(1e9), [2, 0, 1], 'sticks to the one that worked');
  });
});
