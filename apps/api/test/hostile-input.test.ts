import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DB_MODES } from '@catchment/testkit';
import { PLAYBOOK } from './fixtures.ts';
import { buildWorld, dbFingerprint, startTestApi, type TestApi } from './helpers.ts';

/** The defects of issue 14 that come from input: each a request that once got a 5xx or was wrongly accepted. */
const HUGE = '9999999999999d';

function assertProblem(
  r: { status: number; headers: Headers; body: { code?: string } },
  status: number,
  code?: string,
) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(String(r.headers.get('content-type')), /application\/problem\+json/);
  if (code) assert.equal(r.body.code, code);
}

for (const mode of DB_MODES) {
  describe(`hostile input (${mode})`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode);
      await buildWorld(t);
    });
    after(() => t.close());

    it('durations past the documented maximum are refused with 422 on every action route and in playbooks', async () => {
      const before = await dbFingerprint(t);
      const routes: [string, unknown][] = [
        ['/v1/edges/lhr/drain', {}],
        ['/v1/edges/lhr/freeze', {}],
        ['/v1/automation/freeze', {}],
        [`/v1/prefixes/${encodeURIComponent('198.18.4.0/24')}/withdraw`, {}],
        ['/v1/actions', { kind: 'drain', edge: 'lhr' }],
      ];
      for (const [path, extra] of routes) {
        for (const dryRun of [true, false]) {
          const r = await t.call('POST', path, {
            body: { reason: 'overflow', ttl: HUGE, dryRun, ...(extra as object) },
          });
          assertProblem(r, 422);
          assert.match(JSON.stringify(r.body), /366d/, 'the message names the maximum');
        }
      }
      const far = await t.call('POST', '/v1/edges/lhr/drain', {
        body: { reason: 'far', expiresAt: '9999-12-31T00:00:00Z' },
      });
      assertProblem(far, 422);
      const steps = [{ kind: 'dns-shift', schedule: [10], dwell: HUGE }];
      for (const body of [
        { ...PLAYBOOK, name: 'huge-dwell', steps },
        {
          ...PLAYBOOK,
          name: 'huge-verify',
          steps: [{ kind: 'dns-shift', schedule: [10], verify: { within: '367d' } }],
        },
        { ...PLAYBOOK, name: 'huge-cooldown', cooldown: HUGE },
      ]) {
        assertProblem(await t.call('POST', '/v1/playbooks', { body }), 422);
      }
      assertProblem(
        await t.call('POST', '/v1/slos', {
          body: { name: 'w', edge: 'lhr', metric: 'utilisation', enter: 1, exit: 0.5, window: HUGE },
        }),
        422,
      );
      assert.equal(await dbFingerprint(t), before);
      const ok = await t.call('POST', '/v1/edges/lhr/freeze', { body: { reason: 'max', ttl: '366d', dryRun: true } });
      assert.equal(ok.status, 200, ok.text);
    });
  });
}
