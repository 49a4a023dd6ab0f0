import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DB_MODES, until } from '@catchment/testkit';
import { EDGES } from '@catchment/testkit/api-world';
import { startAlertmanager } from './alertmanager.ts';
import { startTestApi, type TestApi } from './helpers.ts';

const counter = (metrics: string, outcome: string) =>
  Number(
    new RegExp(`catchment_api_signals_total\\{source="alertmanager",outcome="${outcome}"\\} (\\d+)`).exec(
      metrics,
    )?.[1] ?? 0,
  );

for (const mode of DB_MODES) {
  describe(`signals on ${mode}`, () => {
    let t: TestApi;
    before(async () => {
      t = await startTestApi(mode);
      for (const e of EDGES) assert.equal((await t.call('POST', '/v1/edges', { body: e })).status, 201);
    });
    after(() => t.close());

    it('a real Alertmanager delivers firing then resolved, once each, through bearer and basic auth receivers', async () => {
      const hook = `${t.url}/v1/signals/alertmanager`;
      const am = await startAlertmanager([
        { url: hook, auth: { authorization: { type: 'Bearer', credentials: t.tokens.operator } } },
        { url: hook, auth: { basic_auth: { username: 'alertmanager', password: t.tokens.operator } } },
      ]);
      try {
        const startsAt = new Date(Date.now() - 5000).toISOString();
        const alert = {
          labels: { alertname: 'EdgeOverloaded', edge: 'lhr', slo: 'lhr-utilisation', severity: 'page' },
          annotations: { value: '0.93', summary: 'lhr is hot' },
          startsAt,
        };
        await am.push([{ ...alert, endsAt: new Date(Date.now() + 3_600_000).toISOString() }]);
        const firing = await until('the firing signal', async () => {
          const r = await t.call('GET', '/v1/signals?source=alertmanager');
          return r.body.items.length > 0 ? r.body.items : undefined;
        });
        assert.equal(firing.length, 1);
        assert.equal(firing[0].status, 'firing');
        assert.equal(firing[0].name, 'EdgeOverloaded');
        assert.equal(firing[0].edge, 'lhr');
        assert.equal(firing[0].slo, 'lhr-utilisation');
        assert.equal(firing[0].severity, 'page');
        assert.equal(firing[0].value, 0.93);
        assert.equal(firing[0].startsAt, new Date(Date.parse(startsAt)).toISOString());

        // Let Alertmanager repeat the notification (repeat_interval 2s) before resolving.
        await new Promise((r) => setTimeout(r, 3000));
        await am.push([{ ...alert, endsAt: new Date().toISOString() }]);
        const resolved = await until('the resolved signal', async () => {
          const r = await t.call('GET', '/v1/signals?source=alertmanager&status=resolved');
          return r.body.items.length > 0 ? r.body.items : undefined;
        });
        assert.equal(resolved[0].id, firing[0].id, 'the same signal moves to resolved');
        assert.ok(resolved[0].endsAt);
        await new Promise((r) => setTimeout(r, 2500));
        const all = await t.call('GET', '/v1/signals?source=alertmanager');
        assert.equal(all.body.items.length, 1, 'one signal however often Alertmanager sent it');
        const metrics = (await t.call('GET', '/metrics')).text;
        assert.equal(counter(metrics, 'new'), 1, 'firing arrived once');
        assert.equal(counter(metrics, 'resolved'), 1, 'resolved arrived once');
        assert.ok(counter(metrics, 'duplicate') >= 1, 'the second receiver and repeats were duplicates');
      } finally {
        await am.stop();
      }
    });

    it('generic signals: idempotent by fingerprint, resolved once, unknown edges kept as labels', async () => {
      const body = { name: 'HighLatency', status: 'firing', edge: 'fra', severity: 'warn', value: 250 };
      const first = await t.call('POST', '/v1/signals', { body, token: t.tokens.operator });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.new, 1);
      const again = await t.call('POST', '/v1/signals', { body, token: t.tokens.operator });
      assert.equal(again.body.duplicates, 1);
      assert.equal(again.body.signals[0].id, first.body.signals[0].id);
      const resolved = await t.call('POST', '/v1/signals', { body: { ...body, status: 'resolved' } });
      assert.equal(resolved.body.resolved, 1);
      assert.equal(resolved.body.signals[0].id, first.body.signals[0].id);
      const twice = await t.call('POST', '/v1/signals', { body: { ...body, status: 'resolved' } });
      assert.equal(twice.body.duplicates, 1, 'a resent resolved changes nothing');
      const refire = await t.call('POST', '/v1/signals', { body });
      assert.equal(refire.body.new, 1, 'firing again after resolved is a new occurrence');
      await t.call('POST', '/v1/signals', { body: { ...body, status: 'resolved' } });
      const list = await t.call('GET', '/v1/signals?name=HighLatency');
      assert.ok(list.body.items.every((s: { status: string }) => s.status === 'resolved'));

      const elsewhere = await t.call('POST', '/v1/signals', {
        body: {
          source: 'blackbox',
          name: 'Probe',
          status: 'firing',
          labels: { edge: 'mars' },
          startsAt: '2026-01-01T00:00:00Z',
        },
      });
      assert.equal(elsewhere.body.new, 1);
      const got = (await t.call('GET', '/v1/signals?source=blackbox')).body.items[0];
      assert.equal(got.edge, null);
      assert.equal(got.labels.edge, 'mars');

      const reserved = await t.call('POST', '/v1/signals', { body: { ...body, source: 'slo' } });
      assert.equal(reserved.status, 422);
      assert.equal(reserved.body.errors[0].path, '/source');
      const bad = await t.call('POST', '/v1/signals/alertmanager', { body: { version: '3', alerts: [] } });
      assert.equal(bad.status, 422);
      assert.equal((await t.call('POST', '/v1/signals', { body, token: t.tokens.viewer })).status, 403);
    });
  });
}
