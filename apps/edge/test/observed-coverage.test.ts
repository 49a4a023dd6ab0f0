import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createToken, startApi } from '@catchment/api';
import { birdCommand } from '@catchment/routing';
import { buildWorld, startApiHarness } from '@catchment/testkit/api-harness';
import { BgpLab } from '@catchment/testkit/bgp-lab';
import { type EdgeAgent, startEdgeAgent } from '../src/index.ts';

const LHR24 = encodeURIComponent('198.18.4.0/24');
type Problem = { status: number; body: { code?: string; detail?: string; details?: { rule?: string } } };

/**
 * Issue 12 on real parts: the real API over PostgreSQL with its fixture world (the /20 is
 * announced by fra, iad and sin; coverage needs 2 others), real BIRD for fra, iad and lhr
 * peered with a transit, and real edge agents following the API's snapshot and reporting what
 * their BIRD really exports. sin has no agent: it never counts. An operator's withdrawal of
 * lhr's /24 is judged on what the agents observe: a session killed at the transit, or an agent
 * stopped past the report bound, makes it refused with the observed reason; restored, allowed.
 */
test('coverage on observed state: real BIRD, real agents, the real API', { timeout: 180_000 }, async (t) => {
  const lab = await BgpLab.create({ edges: ['fra', 'iad', 'lhr'] });
  t.after(() => lab.destroy());
  const api = await startApiHarness('postgres', { startApi, createToken });
  t.after(() => api.close());
  await buildWorld(api);
  // A short bound, so a stopped agent turns unknown within the test (default: 30 s).
  const put = await api.call('PUT', '/v1/settings', { body: { agentReportStaleSeconds: 3 } });
  assert.equal(put.status, 200, put.text);

  const agents = new Map<string, EdgeAgent>();
  const start = async (name: string) => {
    const agent = await startEdgeAgent({
      ...lab.agentParts(name, { url: api.url, token: api.tokens.agent }),
      apiUrl: api.url,
      token: api.tokens.agent,
      reconcileCron: '*/2 * * * * *',
      reportIntervalMs: 250,
      http: false,
    });
    agents.set(name, agent);
  };
  t.after(async () => {
    for (const a of agents.values()) await a.stop();
  });
  for (const name of ['fra', 'iad', 'lhr']) await start(name);

  const withdraw = (dryRun: boolean) =>
    api.call('POST', `/v1/prefixes/${LHR24}/withdraw`, {
      body: { reason: 'issue 12 lab', dryRun },
    }) as Promise<Problem & { body: { refusal?: { rule: string; reason: string } | null } }>;
  /** The dry run's verdict, once it matches (agents report every 250 ms; BGP takes seconds). */
  const until = async (what: string, ok: (r: Awaited<ReturnType<typeof withdraw>>) => boolean) => {
    let last: Awaited<ReturnType<typeof withdraw>> | undefined;
    await lab
      .waitFor(
        async () => {
          last = await withdraw(true);
          return ok(last);
        },
        30_000,
        what,
      )
      .catch((e) => {
        assert.fail(`${(e as Error).message}: last answer ${last?.status} ${JSON.stringify(last?.body)}`);
      });
    return last as Awaited<ReturnType<typeof withdraw>>;
  };
  const allowed = (r: Awaited<ReturnType<typeof withdraw>>) => r.status === 200 && r.body.refusal === null;

  await t.test('with fra and iad exporting the /20 on established sessions, the withdrawal is allowed', async () => {
    await lab.waitFor(
      async () => (await lab.transitView()).includes('lhr4 198.18.4.0/24 64500:100'),
      30_000,
      "lhr's /24 at the transit",
    );
    await until('the dry run to allow the withdrawal', allowed);
    const consumers = await api.call('GET', '/v1/consumers?kind=edge');
    const fra = consumers.body.items.find((c: { name: string }) => c.name === 'edge:fra');
    assert.equal(fra.edge, 'fra');
    assert.ok(fra.ageSeconds < 30, 'the latest report and its age');
    const session = fra.details.observed.sessions.find((s: { established: boolean; exported: { prefix: string }[] }) =>
      s.exported?.some((r) => r.prefix === '198.18.0.0/20'),
    );
    assert.ok(session?.established, 'fra reports the /20 exported on an established session, read from BIRD');
    const snap = await api.call('GET', '/v1/snapshot');
    const observed = snap.body.body.edges.find((e: { name: string }) => e.name === 'sin').observed;
    assert.equal(observed.reportedAt, null, 'sin has no agent: its health is unknown');
  });

  await t.test("fra's session killed at the transit: refused, naming fra's observation", async () => {
    await birdCommand(lab.transit.socket, 'disable fra4');
    // The dry run shows the verdict; fra's agent reports within 250 ms, BGP notices at once.
    const r = await until('the refusal on observed state', (x) =>
      /fra: no established session exports/.test(x.body.refusal?.reason ?? ''),
    );
    assert.equal(r.body.refusal?.rule, 'coverage');
    assert.match(
      r.body.refusal?.reason ?? '',
      /fra: no established session exports 198\.18\.0\.0\/20 \(agent report \d+ s old\)/,
    );
    assert.match(r.body.refusal?.reason ?? '', /sin: health unknown, no agent has reported/);
    // The real withdrawal is refused the same way (one judge), and nothing moves at the transit.
    const real = await withdraw(false);
    assert.equal(real.status, 409, JSON.stringify(real.body));
    assert.equal(real.body.code, 'SAFETY_REFUSED');
    assert.equal(real.body.details?.rule, 'coverage');
    assert.match(real.body.detail ?? '', /fra: no established session exports 198\.18\.0\.0\/20/);
    assert.ok((await lab.transitView()).includes('lhr4 198.18.4.0/24 64500:100'));
  });

  await t.test('the session restored: allowed again', async () => {
    await birdCommand(lab.transit.socket, 'enable fra4');
    await until('the dry run to allow the withdrawal again', allowed);
  });

  await t.test("iad's agent stopped past the bound: refused as unknown; restarted: allowed", async () => {
    await agents.get('iad')?.stop();
    agents.delete('iad');
    // Stopping the agent withdraws nothing: BIRD still exports, but nobody vouches for it.
    const r = await until('the refusal for the silent agent', (x) =>
      /iad: health unknown/.test(x.body.refusal?.reason ?? ''),
    );
    assert.match(r.body.refusal?.reason ?? '', /iad: health unknown, no agent report for \d+ s \(bound 3 s\)/);
    assert.ok((await lab.transitView()).includes('iad4 198.18.0.0/20'), "iad's routes stay with BIRD");
    await start('iad');
    await until('the dry run to allow the withdrawal with iad back', allowed);
  });

  await t.test('allowed for real: the /24 leaves the transit while the /20 stays', async () => {
    const real = await withdraw(false);
    assert.equal(real.status, 201, JSON.stringify(real.body));
    await lab.waitFor(
      async () => {
        const view = await lab.transitView();
        return !view.includes('lhr4 198.18.4.0/24 64500:100') && view.includes('fra4 198.18.0.0/20');
      },
      30_000,
      'the /24 gone from the transit, the /20 there',
    );
  });
});
