import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createToken, type StartedApi, startApi } from '@catchment/api';
import { type Database, schema } from '@catchment/db';
import { freshDatabase } from '@catchment/testkit';
import {
  activeActions,
  addPlaybook,
  FakeClock,
  MIN,
  NORMAL_LOADS,
  reportLoads,
  seedWorld,
} from '@catchment/testkit/world';
import { Controller } from '../src/index.ts';
import { lapsed } from '../src/triggers.ts';

/**
 * A lost "resolved" webhook must not keep a run shedding forever: a firing alert that is
 * neither resent nor resolved lapses 15 minutes (alertLapseMs) after its endsAt, and the run
 * undoes; a resend with a later endsAt keeps it alive. Alerts go through the API's real
 * Alertmanager intake; the controller runs on a fake clock that starts now.
 */
describe('firing alerts lapse at their endsAt', () => {
  let database: Database;
  let api: StartedApi;
  let token: string;
  let ids: Map<string, number>;
  before(async () => {
    database = await freshDatabase('pglite');
    ids = await seedWorld(database.db);
    await addPlaybook(database.db, {
      name: 'shed-overloaded-edge',
      trigger: { alert: { alertname: 'EdgeOverloaded' } },
      cooldown: '10m',
    });
    api = await startApi({ database, port: 0 });
    token = (await createToken(database.db, { name: 'alertmanager', role: 'operator' })).token;
  });
  after(async () => {
    await api?.close();
    await database?.close();
  });

  const send = async (startsAt: Date, endsAt: Date) => {
    const res = await fetch(`${api.url}/v1/signals/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4',
        status: 'firing',
        receiver: 'catchment',
        groupKey: '{}:{alertname="EdgeOverloaded"}',
        groupLabels: { alertname: 'EdgeOverloaded' },
        commonLabels: {},
        commonAnnotations: {},
        externalURL: 'http://alertmanager.invalid',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'EdgeOverloaded', edge: 'lhr', severity: 'page' },
            annotations: {},
            startsAt: startsAt.toISOString(),
            endsAt: endsAt.toISOString(),
            fingerprint: 'lapse-lhr',
            generatorURL: 'http://prometheus.invalid/graph',
          },
        ],
      }),
    });
    assert.equal(res.status, 200, await res.text());
  };

  it('a run holds while the alert is resent, and undoes once it lapses', async () => {
    const clock = new FakeClock(Date.now());
    const start = clock.now();
    const controller = new Controller({ database, now: clock.now, schedule: false, http: false });
    await controller.start();
    try {
      // Prometheus promises an end 4 minutes ahead; Alertmanager resends at minute 10 only.
      await send(start, new Date(start.getTime() + 4 * MIN));
      const stateAt = new Map<number, string>();
      for (let minute = 0; minute <= 90; minute++) {
        if (minute === 10) await send(start, new Date(clock.now().getTime() + 4 * MIN));
        await reportLoads(database.db, ids, NORMAL_LOADS, clock.now());
        await controller.tick();
        const [run] = await database.db.select().from(schema.playbookRuns);
        stateAt.set(minute, run?.state ?? 'none');
        clock.advance(MIN);
      }
      const timeline = [...stateAt].map(([m, s]) => `${m}:${s}`).join(' ');
      assert.equal(stateAt.get(1), 'acting', timeline);
      // The resend at minute 10 moves the lapse to 10 + 4 + 15 = minute 29; until then the
      // trigger holds and the run keeps acting.
      const eased = [...stateAt].find(([, s]) => s !== 'acting' && s !== 'none')?.[0];
      assert.ok(eased !== undefined && eased >= 29 && eased <= 31, `the run eased at minute ${eased}: ${timeline}`);
      assert.equal(stateAt.get(90), 'resolved', timeline);
      assert.deepEqual(await activeActions(database.db), [], 'every action of the run is undone');
    } finally {
      await controller.stop();
    }
  });

  it('an alert without endsAt lapses after the longest silence; a resend restarts it', () => {
    const t0 = Date.parse('2026-12-01T00:00:00Z');
    const lapse = { afterEndMs: 15 * MIN, maxSilenceMs: 24 * 60 * MIN };
    const alert = { endsAt: null, updatedAt: new Date(t0) } as unknown as typeof schema.signals.$inferSelect;
    assert.equal(lapsed(alert, new Date(t0 + 23 * 60 * MIN), lapse), false);
    assert.equal(lapsed(alert, new Date(t0 + 24 * 60 * MIN + 1), lapse), true);
    const resent = { ...alert, updatedAt: new Date(t0 + 20 * 60 * MIN) };
    assert.equal(lapsed(resent, new Date(t0 + 24 * 60 * MIN + 1), lapse), false);
    // endsAt in the past, but resent since: the later of the two counts.
    const ended = { endsAt: new Date(t0), updatedAt: new Date(t0 + 30 * MIN) } as typeof alert;
    assert.equal(lapsed(ended, new Date(t0 + 44 * MIN), lapse), false);
    assert.equal(lapsed(ended, new Date(t0 + 46 * MIN), lapse), true);
  });
});
