import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Snapshot } from '@catchment/core';
import { GEOIP_TESTDATA } from '@catchment/testkit';
import type { ExplainQuery } from '../src/index.ts';
import { buildWorld, startTestApi, type TestApi } from './helpers.ts';

/** MaxMind's published test databases (fake data in the real format). */
const TESTDATA = GEOIP_TESTDATA;

describe('GET /v1/explain', () => {
  const calls: { version: number; query: ExplainQuery }[] = [];
  let geo: TestApi;
  let seam: TestApi;
  let none: TestApi;
  before(async () => {
    geo = await startTestApi('pglite', {
      geo: { city: `${TESTDATA}/GeoIP2-City-Test.mmdb`, asn: `${TESTDATA}/GeoLite2-ASN-Test.mmdb` },
    });
    await buildWorld(geo);
    // Any decision function can be given instead (the seam); this one records its input.
    seam = await startTestApi('pglite', {
      explain: (snap: Snapshot, query) => {
        calls.push({ version: snap.version, query });
        return { edges: snap.body.edges.map((e) => e.name) };
      },
    });
    await buildWorld(seam);
    none = await startTestApi('pglite', { explain: null });
  });
  after(async () => {
    await geo.close();
    await seam.close();
    await none.close();
  });

  it("answers with packages/geo's decision and trace, as the DNS servers would", async () => {
    const london = await geo.call('GET', '/v1/explain?name=www.example.net&client=81.2.69.142', {
      token: geo.tokens.viewer,
    });
    assert.equal(london.status, 200, london.text);
    const d = london.body.decision;
    assert.equal(d.service, 'www.example.net');
    assert.equal(d.source, 'ecs');
    assert.equal(d.edge, 'lhr', JSON.stringify(d.trace));
    assert.deepEqual(d.addresses.v4, ['198.18.4.10']);
    assert.ok(d.trace.length >= 2);
    assert.ok(d.scope > 0 && d.scope <= 32);

    const usa = await geo.call('GET', '/v1/explain?name=www.example.net&client=216.160.83.56/32');
    assert.equal(usa.body.decision.edge, 'iad', JSON.stringify(usa.body.decision.trace));

    // Drained, lhr no longer gets London: the explanation follows the published snapshot.
    await geo.call('POST', '/v1/edges/lhr/drain', { body: { reason: 'explain test' } });
    const after = await geo.call('GET', '/v1/explain?name=www.example.net&client=81.2.69.142');
    assert.notEqual(after.body.decision.edge, 'lhr');
    assert.equal(after.body.snapshotVersion, london.body.snapshotVersion + 1);

    const notSteered = await geo.call('GET', '/v1/explain?name=mail.example.net&resolver=81.2.69.142');
    assert.equal(notSteered.status, 200);
    assert.equal(notSteered.body.decision.service, null);
  });

  it('passes the latest snapshot and the normalised query to the decision function', async () => {
    const r = await seam.call('GET', '/v1/explain?name=WWW.Example.NET.&client=81.2.69.0/24&resolver=192.0.2.1');
    assert.equal(r.status, 200, r.text);
    const latest = (await seam.call('GET', '/v1/snapshot')).body.version;
    assert.deepEqual(calls.at(-1), {
      version: latest,
      query: { name: 'www.example.net', client: '81.2.69.0/24', resolver: '192.0.2.1' },
    });
    assert.deepEqual(r.body.decision.edges, ['fra', 'iad', 'lhr', 'sin']);
    const byResolver = await seam.call('GET', '/v1/explain?name=www.example.net&resolver=2001:db8::53');
    assert.equal(byResolver.status, 200);
    assert.deepEqual(calls.at(-1)?.query, { name: 'www.example.net', resolver: '2001:db8::53' });
  });

  it('refuses bad queries, and says when there is no decision function', async () => {
    for (const q of [
      'name=www.example.net',
      'name=www.example.net&client=81.2.69.1/24',
      'name=www.example.net&client=x',
      'name=www.example.net&resolver=81.2.69.0/24',
      'client=1.2.3.4',
    ]) {
      const r = await seam.call('GET', `/v1/explain?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.code, 'INVALID_QUERY', q);
    }
    const r = await none.call('GET', '/v1/explain?name=www.example.net&client=1.2.3.4');
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'EXPLAIN_UNAVAILABLE');
  });
});
