import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  decryptPrivateKey,
  dnskeyRdata,
  dsText,
  keyAad,
  privateKeyObject,
  type Snapshot,
  type SnapshotDnssecKey,
} from '@catchment/core';
import { TEST_KEK } from '@catchment/testkit';
import { buildWorld, startTestApi, type TestApi } from './helpers.ts';

process.env.CATCHMENT_DNSSEC_KEK = TEST_KEK.toString('hex');

/** DNSSEC through the API: settings, keys and DS, and both rollovers step by step. */
describe('DNSSEC keys and rollovers through the API', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi('pglite');
    await buildWorld(t);
  });
  after(() => t.close());

  const status = async () => (await t.call('GET', '/v1/zones/example.net/dnssec', { token: t.tokens.viewer })).body;
  const zoneKeys = async (): Promise<SnapshotDnssecKey[]> => {
    const snap = (await t.call('GET', '/v1/snapshot', { token: t.tokens.agent })).body as Snapshot;
    return snap.body.zones.find((z) => z.name === 'example.net')?.dnssec?.keys ?? [];
  };
  const advance = (id: number, force = true) =>
    t.call('POST', `/v1/zones/example.net/dnssec/rollovers/${id}/advance`, { body: { force } });

  it('is off until configured, then creates a KSK and a ZSK and shows the DS for the parent', async () => {
    assert.equal((await status()).enabled, false);
    assert.deepEqual(await zoneKeys(), []);
    const forbidden = await t.call('PUT', '/v1/zones/example.net/dnssec', { token: t.tokens.operator, body: {} });
    assert.equal(forbidden.status, 403);
    const r = await t.call('PUT', '/v1/zones/example.net/dnssec', { body: { keys: 'ksk-zsk' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.enabled, true);
    assert.deepEqual(r.body.keys.map((k: { role: string }) => k.role).sort(), ['ksk', 'zsk']);
    assert.equal(r.body.ds.length, 1);
    assert.match(r.body.ds[0], /^example\.net\. IN DS \d+ 13 2 [0-9A-F]{64}$/);
    assert.doesNotMatch(r.text, /privateKey|v1:/, 'the API never shows private keys');

    const keys = await zoneKeys();
    const ksk = keys.find((k) => k.role === 'ksk')!;
    const rdata = dnskeyRdata(ksk.flags, ksk.algorithm, Buffer.from(ksk.publicKey, 'base64'));
    assert.equal(r.body.ds[0], `example.net. IN DS ${dsText('example.net', rdata)}`);
    for (const k of keys) {
      assert.match(k.privateKey!, /^v1:[0-9a-f]{8}:/, 'encrypted in the snapshot');
      const der = decryptPrivateKey(TEST_KEK, k.privateKey!, keyAad('example.net', k.tag, k.role));
      assert.equal(privateKeyObject(der).asymmetricKeyType, 'ec');
    }
    assert.throws(() =>
      decryptPrivateKey(Buffer.alloc(32, 1), keys[0]!.privateKey!, keyAad('example.net', keys[0]!.tag, keys[0]!.role)),
    );
  });

  it('rolls the ZSK by pre-publication, each step waiting for the TTLs unless forced', async () => {
    const before = await zoneKeys();
    const oldZsk = before.find((k) => k.role === 'zsk')!;
    const started = await t.call('POST', '/v1/zones/example.net/dnssec/rollovers', { body: { kind: 'zsk' } });
    assert.equal(started.status, 201, started.text);
    const ro = started.body.rollovers.at(-1);
    assert.equal(ro.step, 'published');
    // DNSKEY TTL (the zone's, 3600 s) plus the propagation margin.
    assert.equal((Date.parse(ro.nextStepAt) - Date.parse(ro.startedAt)) / 1000, 3600 + 300);
    let keys = await zoneKeys();
    const fresh = keys.find((k) => k.role === 'zsk' && k.tag !== oldZsk.tag)!;
    assert.equal(fresh.signing, false, 'published, not signing');
    assert.equal(fresh.privateKey, undefined, 'a key that does not sign is not in the snapshot');
    assert.equal(keys.find((k) => k.tag === oldZsk.tag)?.signing, true);

    const again = await t.call('POST', '/v1/zones/example.net/dnssec/rollovers', { body: { kind: 'zsk' } });
    assert.equal(again.body.code, 'STATE_CONFLICT');
    process.env.CATCHMENT_DNSSEC_KEK = Buffer.alloc(32, 1).toString('hex');
    const otherKek = await t.call('POST', '/v1/zones/example.net/dnssec/rollovers', { body: { kind: 'ksk' } });
    process.env.CATCHMENT_DNSSEC_KEK = TEST_KEK.toString('hex');
    assert.equal(otherKek.status, 409);
    assert.equal(otherKek.body.code, 'DNSSEC_KEK_MISMATCH', 'a key the DNS servers could not open is never made');
    assert.equal(again.status, 409);
    const early = await advance(ro.id, false);
    assert.equal(early.status, 409);
    assert.equal(early.body.code, 'ROLLOVER_WAITING');

    const active = await advance(ro.id);
    assert.equal(active.status, 200, active.text);
    assert.equal(active.body.rollovers.at(-1).step, 'active');
    keys = await zoneKeys();
    assert.equal(keys.find((k) => k.tag === fresh.tag)?.signing, true);
    assert.equal(keys.find((k) => k.tag === oldZsk.tag)?.signing, false, 'retired: still published');
    const done = await advance(ro.id);
    assert.equal(done.body.rollovers.at(-1).step, 'done');
    keys = await zoneKeys();
    assert.equal(
      keys.some((k) => k.tag === oldZsk.tag),
      false,
      'removed',
    );
    assert.equal((await advance(ro.id)).status, 409, 'a finished rollover has no next step');
  });

  it('rolls the KSK by double signature and swaps CDS/DS after the DNSKEY TTL', async () => {
    const oldKsk = (await zoneKeys()).find((k) => k.role === 'ksk')!;
    const started = await t.call('POST', '/v1/zones/example.net/dnssec/rollovers', { body: { kind: 'ksk' } });
    assert.equal(started.status, 201, started.text);
    const ro = started.body.rollovers.at(-1);
    assert.equal(ro.step, 'double-signed');
    let keys = await zoneKeys();
    const ksks = keys.filter((k) => k.role === 'ksk');
    assert.equal(ksks.length, 2);
    assert.ok(
      ksks.every((k) => k.signing),
      'both KSKs sign the DNSKEY RRset',
    );
    assert.deepEqual(
      keys.filter((k) => k.ds).map((k) => k.tag),
      [oldKsk.tag],
    );
    const swap = await advance(ro.id);
    assert.equal(swap.body.rollovers.at(-1).step, 'ds-swap');
    const next = swap.body.rollovers.at(-1);
    assert.ok(Date.parse(next.nextStepAt) - Date.now() > 86000 * 1000, 'waits for the parent DS TTL');
    keys = await zoneKeys();
    const newKsk = keys.find((k) => k.role === 'ksk' && k.tag !== oldKsk.tag)!;
    assert.deepEqual(
      keys.filter((k) => k.ds).map((k) => k.tag),
      [newKsk.tag],
    );
    assert.equal(swap.body.ds.length, 1);
    assert.match(swap.body.ds[0], new RegExp(`IN DS ${newKsk.tag} 13 2 `));
    await advance(ro.id);
    keys = await zoneKeys();
    assert.deepEqual(
      keys.filter((k) => k.role === 'ksk').map((k) => k.tag),
      [newKsk.tag],
    );
  });

  it('turns signing off per zone and keeps the keys', async () => {
    const off = await t.call('PUT', '/v1/zones/example.net/dnssec', { body: { enabled: false } });
    assert.equal(off.status, 200);
    assert.equal(off.body.keys.length, 2);
    assert.deepEqual(await zoneKeys(), []);
    const bad = await t.call('POST', '/v1/zones/example.net/dnssec/rollovers', { body: { kind: 'zsk' } });
    assert.equal(bad.status, 409);
    assert.equal(bad.body.code, 'DNSSEC_NOT_ENABLED');
    const unknown = await t.call('GET', '/v1/zones/nowhere.example/dnssec');
    assert.equal(unknown.status, 404);
  });
});
