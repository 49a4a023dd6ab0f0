import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from '@catchment/api-client';
import { freshPostgresUrl, tempDir, until } from '@catchment/testkit';
import { dig, digLoop, dnsVersion, type Part, seedDemo, startApiPart, startDnsPart } from './ha-helpers.ts';

// MaxMind's test data is not loaded here: the embedded country database places 81.2.69.142 in GB.
const LONDON = ['www.example.net', 'A', '+subnet=81.2.69.0/24'];

/**
 * Two API processes on one PostgreSQL database, as a production site runs them behind no
 * load balancer: DNS servers list both. A change made through one instance reaches a DNS
 * server long-polling the other (LISTEN/NOTIFY between instances), and a DNS server keeps
 * answering, then follows changes through the other instance, when the one it used dies.
 */
describe('several API instances on one PostgreSQL database', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let tokens: { admin: string; agent: string };
  let a: Part & { url: string };
  let b: Part & { url: string };
  let viaB: Part;
  let viaA: Part;

  before(async () => {
    dir = await tempDir('catchment-instances-');
    const url = await freshPostgresUrl();
    tokens = await seedDemo(url);
    a = await startApiPart(dir.path, 'api-a', url);
    b = await startApiPart(dir.path, 'api-b', url);
    // One DNS server prefers B, the other A; both know the other instance.
    viaB = await startDnsPart(dir.path, 'dns-b', `${b.url},${a.url}`, tokens.agent);
    viaA = await startDnsPart(dir.path, 'dns-a', `${a.url},${b.url}`, tokens.agent);
  });
  after(async () => {
    for (const p of [viaA, viaB, a, b]) await p?.stop();
    await dir?.remove();
  });

  it('a change published through instance A reaches a DNS server long-polling instance B', async () => {
    const before = await dnsVersion(viaB.http);
    const london = await dig(viaB.port, ...LONDON);
    const client = new ApiClient({ urls: a.url, token: tokens.admin });
    const res = await client.json<{ id: number }>('POST', '/v1/edges/lhr/drain', {
      body: { reason: 'instances test', ttl: '1h' },
    });
    client.close();
    assert.equal(res.status, 201, res.text);
    const now = await until(
      'the new version at the DNS server following B',
      async () => {
        const v = await dnsVersion(viaB.http);
        return v !== null && before !== null && v > before ? v : undefined;
      },
      30_000,
    );
    assert.ok(now > (before ?? 0));
    assert.notEqual(await dig(viaB.port, ...LONDON), london, 'London no longer gets lhr');
  });

  it('instance A dies: its DNS server keeps answering, then follows changes through B', async () => {
    const loop = digLoop(viaA.port, 'www.example.net');
    await until('some answers before the kill', async () => (loop.counts.answered >= 3 ? true : undefined), 20_000);
    a.child.kill('SIGKILL');
    const start = await dnsVersion(viaA.http);
    const client = new ApiClient({ urls: b.url, token: tokens.admin });
    const res = await client.json('POST', '/v1/edges/lhr/undrain', {
      body: { reason: 'instances test: after A died' },
    });
    client.close();
    assert.equal(res.status, 200, res.text);
    const now = await until(
      'the change through B at the DNS server that used A',
      async () => {
        const v = await dnsVersion(viaA.http);
        return v !== null && start !== null && v > start ? v : undefined;
      },
      60_000,
    );
    const counts = await loop.stop();
    assert.ok(now > (start ?? 0));
    assert.equal(counts.failed, 0, `unanswered queries: ${counts.errors.slice(0, 3).join('; ')}`);
    assert.ok(counts.answered > 3);
    assert.match(viaA.output(), /trying the next API URL/);
  });
});
