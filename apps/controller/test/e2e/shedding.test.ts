import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createToken, startApi } from '@catchment/api';
import {
  assertUndoneInReverse,
  e2eSteps,
  effects,
  latestRun,
  OVERLOADED,
  runActions,
  stageVerifications,
  World,
  waitRunState,
  waitShed,
  waitSteady,
} from '@catchment/testkit/e2e';
import { until } from '@catchment/testkit/wait';
import { buildBpf, readPinnedDsrConfig } from '../../../edge/src/xdp/index.ts';

/**
 * Issue 7, end to end on real parts: an overload of fra, seen by a real Prometheus on the
 * test's load exporter and sent by a real Alertmanager to the API, runs the playbook through
 * the controller, the DNS servers, the edge agents, BIRD and XDP; recovery undoes each step
 * in reverse. Then the same with the leader killed in the middle, and in approval mode.
 */
const OVERLOAD_RPS = 92_000; // of fra's 100 000: over the rule's 90 %
const NORMAL_RPS = 40_000;

describe('load shedding end to end', { timeout: 240_000 }, () => {
  let w: World;
  before(async () => {
    w = await World.start(
      {
        playbooks: [
          { name: 'shed', mode: 'auto', alertname: 'EdgeOverloaded', steps: e2eSteps() },
          {
            name: 'shed-approve',
            mode: 'approve',
            alertname: 'EdgeOverloadedApprove',
            steps: [
              { kind: 'dns-shift', schedule: [50], verify: { within: '1s' }, dwell: '1s' },
              { kind: 'withdraw-unicast', verify: { within: '1s' }, dwell: '1s' },
            ],
          },
        ],
      },
      { startApi, createToken, buildBpf, readPinnedDsrConfig },
    );
  });
  after(async () => {
    await w?.stop();
  });

  it('an overload alert runs the playbook; its resolution undoes every step in reverse', async () => {
    await waitSteady(w);
    await w.setLoad(OVERLOADED, OVERLOAD_RPS);
    await waitShed(w, 0.25);
    const run = await latestRun(w, 'shed');
    assert.ok(run);
    await assertVerifiedOnAgents(w, run.id);
    await w.setLoad(OVERLOADED, NORMAL_RPS);
    await waitRunState(w, 'shed', ['resolved']);
    await waitSteady(w);
    await assertUndoneInReverse(w, run.id);
  });

  it('the standby finishes the run of a leader killed in the middle, repeating nothing', async () => {
    const first = await w.leader();
    assert.ok(first, 'a leader');
    await w.setLoad(OVERLOADED, OVERLOAD_RPS);
    await until('the /24 is withdrawn', async () => !(await effects(w)).unicastAtTransit, 40_000, 200);
    first.proc.child.kill('SIGKILL');
    await first.proc.exited;
    await until('the standby leads', async () => (await w.leader()) !== undefined, 20_000, 200);
    const second = await w.leader();
    assert.ok(second && second.name !== first.name);
    await waitShed(w, 0.25);
    const run = await latestRun(w, 'shed');
    assert.ok(run);
    await assertVerifiedOnAgents(w, run.id);
    await w.setLoad(OVERLOADED, NORMAL_RPS);
    await waitRunState(w, 'shed', ['resolved']);
    await waitSteady(w);
    await assertUndoneInReverse(w, run.id);
    const actors = new Set((await runActions(w, run.id)).map((a) => a.actor));
    assert.ok(actors.has(first.name) && actors.has(second.name), `both replicas acted: ${[...actors].join(', ')}`);
  });

  it('approval mode: the run waits for an operator, then proceeds', async () => {
    const labels = { alertname: 'EdgeOverloadedApprove', edge: OVERLOADED, severity: 'page' };
    await w.monitoring.pushAlert(labels, false);
    const waiting = await waitRunState(w, 'shed-approve', ['awaiting-approval']);
    // Nothing changes while it waits.
    await new Promise((r) => setTimeout(r, 1500));
    const still = await effects(w);
    assert.ok(
      still.ownAnswers.every((n) => n === w.probes.length) && still.unicastAtTransit,
      'nothing applied unapproved',
    );
    assert.equal((await latestRun(w, 'shed-approve'))?.state, 'awaiting-approval');
    // Approve each stage as it asks (dns-shift 50 %, then the withdrawal).
    for (let stage = 0; stage < 2; stage++) {
      await waitRunState(w, 'shed-approve', ['awaiting-approval']);
      await w.call('POST', `/v1/runs/${waiting.id}/approve`, { reason: `e2e approves stage ${stage + 1}` });
      if (stage === 0) {
        await until('DNS shifts after the approval', async () =>
          (await effects(w)).ownAnswers.every((n) => n < w.probes.length),
        );
      }
    }
    await until(
      'the /24 is withdrawn after the approval',
      async () => !(await effects(w)).unicastAtTransit,
      30_000,
      200,
    );
    await w.monitoring.pushAlert(labels, true);
    await waitRunState(w, 'shed-approve', ['resolved']);
    await waitSteady(w);
    const acts = await runActions(w, waiting.id);
    // The approved stages only: the DNS shift, then the withdrawal of fra's /24 and /48.
    assert.deepEqual(
      acts.map((a) => a.kind),
      ['dns-shift', 'withdraw-unicast', 'withdraw-unicast'],
    );
    assert.ok(acts.every((a) => a.revertedAt !== null));
  });
});

/**
 * Each stage was checked on what the real agents observed before the next one: BIRD stopped
 * exporting fra's /24, the prepend is on its routes; the test's load exporter ignores the DNS
 * shift, so that stage failed its check (and the run escalated, the default).
 */
async function assertVerifiedOnAgents(w: World, runId: number): Promise<void> {
  const verdicts = await stageVerifications(w, runId);
  assert.equal(verdicts['dns-shift 0.0']?.state, 'failed', JSON.stringify(verdicts));
  assert.match(verdicts['dns-shift 0.0']?.reason ?? '', /fra load went from 92000 to 92000 rps: less than 50 %/);
  assert.equal(verdicts['withdraw-unicast 1.0']?.state, 'met', JSON.stringify(verdicts));
  assert.match(verdicts['withdraw-unicast 1.0']?.reason ?? '', /fra exports 198\.18\.1\.0\/24.* no more/);
  assert.equal(verdicts['communities 2.0']?.state, 'met', JSON.stringify(verdicts));
}
