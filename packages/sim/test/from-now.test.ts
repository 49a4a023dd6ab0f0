import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ActiveAction, type CatchmentConfig, CatchmentError, loadConfigFile } from '@catchment/core';
import { fromNowScenario, type PresentWorld } from '../src/index.ts';

const DEMO = new URL('../../../config/demo.yaml', import.meta.url).pathname;
const NOW = new Date('2026-12-07T12:00:00Z');

async function present(loads: Record<string, number | null>, actions: ActiveAction[] = []): Promise<PresentWorld> {
  const config: CatchmentConfig = await loadConfigFile(DEMO);
  config.playbooks = [
    ...(config.playbooks ?? []),
    { name: 'other', mode: 'approve', trigger: { alert: { alertname: 'Other' } }, steps: [{ kind: 'notify' }] },
  ] as CatchmentConfig['playbooks'];
  return {
    now: NOW,
    config,
    body: { edges: Object.entries(loads).map(([name, loadRps]) => ({ name, loadRps })) as never },
    actions,
  };
}

describe('fromNowScenario', () => {
  it("starts from each edge's load in its country, the actions in force, the one playbook in auto mode", async () => {
    const drain: ActiveAction = {
      id: 7,
      kind: 'drain',
      edge: 'syd',
      params: {},
      createdAt: new Date(NOW.getTime() - 60_000),
      expiresAt: null,
      source: 'operator',
      reason: 'maintenance',
    };
    const world = await present({ lhr: 29000, fra: 50000, gru: null, syd: 0 }, [drain]);
    const { model, config } = fromNowScenario(world, { playbook: 'other', edge: 'lhr', duration: '20m' });
    assert.deepEqual(model.clients, [
      { country: 'GB', rps: 29000 },
      { country: 'DE', rps: 50000 },
    ]);
    assert.equal(model.durationS, 1200);
    assert.equal(model.start.toISOString(), NOW.toISOString());
    assert.deepEqual(model.strategies, ['none', 'full']);
    assert.equal(model.alert.name, 'Other', "the playbook's own alert");
    assert.ok(model.publicResolvers.every((r) => r.ecs) && model.publicResolvers.length > 0);
    assert.equal(
      model.publicResolvers.reduce((n, r) => n + r.share, 0),
      1,
    );
    assert.deepEqual(model.fromNow, { playbook: 'other', edge: 'lhr', actions: [drain] });
    assert.deepEqual(
      config.playbooks?.map((p) => [p.name, p.mode]),
      [['other', 'auto']],
    );
    assert.equal(world.config.playbooks?.length, 2, 'the present is not changed');
    // Default: the next hour.
    assert.equal(fromNowScenario(world, { playbook: 'other', edge: 'lhr' }).model.durationS, 3600);
  });

  it('lists every error: the playbook, the edge, no load to start from, a bad duration', async () => {
    const world = await present({ lhr: null });
    const err = (() => {
      try {
        fromNowScenario(world, { playbook: 'nope', edge: 'nowhere' });
      } catch (e) {
        return e as CatchmentError;
      }
      return undefined;
    })();
    assert.ok(err instanceof CatchmentError);
    assert.equal(err.code, 'SCENARIO_INVALID');
    assert.deepEqual(err.errors.map((e) => e.path).sort(), ['/fromNow', '/fromNow/edge', '/fromNow/playbook']);
    assert.throws(
      () =>
        fromNowScenario(
          { ...world, body: { edges: [{ name: 'lhr', loadRps: 10 }] as never } },
          {
            playbook: 'other',
            edge: 'lhr',
            duration: 'soon',
          },
        ),
      (e: CatchmentError) => e.code === 'SCENARIO_INVALID' && e.errors.some((x) => x.path === '/fromNow/duration'),
    );
  });
});
