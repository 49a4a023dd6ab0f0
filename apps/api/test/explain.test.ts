import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Snapshot } from '@catchment/core';
import type { ExplainQuery } from '../src/index.ts';
import { buildWorld, startTestApi, type TestApi } from './helpers.ts';

describe('GET /v1/explain', () => {
  const calls: { version: number; query: ExplainQuery }[] = [];
  let t: TestApi;
  let bare: TestApi;
  before(async () => {
    // The seam: catchment start passes packages/geo's decision; this one records what it is given.
    t = await startTestApi('pglite', {
      explain: (snap: Snapshot, query) => {
        calls.push({ version: snap.version, query });
        return { edges: snap.body.edges.map((e) => e.name) };
      },
    });
    bare = await startTestApi('pglite');
    await buildWorld(t);
  });
  after(async () => {
    await t.close();
    await bare.close();
  });

  it('runs the decision on the latest snapshot with the normalised query', async () => {
    const r = await t.call('GET', '/v1/explain?name=WWW.Example.NET.&client=81.2.69.0/24&resolver=192.0.2.1', {
      token: t.tokens.viewer,
    });
    assert.equal(r.status, 200, r.text);
    const latest = (await t.call('GET', '/v1/snapshot')).body.version;
    assert.equal(r.body.snapshotVersion, latest);
    assert.deepEqual(calls.at(-1), {
      version: latest,
      query: { name: 'www.example.net', client: '81.2.69.0/24', resolver: '192.0.2.1' },
    });
    assert.deepEqual(r.body.decision.edges, ['fra', 'iad', 'lhr', 'sin']);
    const byResolver = await t.call('GET', '/v1/explain?name=www.example.net&resolver=2001:db8::53');
    assert.equal(byResolver.status, 200);
    assert.deepEqual(calls.at(-1)?.query, { name: 'www.example.net', resolver: '2001:db8::53' });
  });

  it('refuses bad queries and says when no decision function is configured', async () => {
    for (const q of [
      'name=www.example.net',
      'name=www.example.net&client=81.2.69.1/24',
      'name=www.example.net&client=x',
      'client=1.2.3.4',
    ]) {
      const r = await t.call('GET', `/v1/explain?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.code, 'INVALID_QUERY', q);
    }
    const none = await bare.call('GET', '/v1/explain?name=www.example.net&client=1.2.3.4');
    assert.equal(none.status, 503);
    assert.equal(none.body.code, 'EXPLAIN_UNAVAILABLE');
  });
});
